import { CronExpressionParser } from "cron-parser";
import { describe, expect, test } from "vitest";
import { cronInstants, cronPreview, isValidCron, nextInstant, nextInstants, validateCron } from "./cron.ts";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const instants = (cron: string, timezone: string, after: string, count: number) => iso(nextInstants(cron, timezone, new Date(after), count));

// 2026 transitions: London springs forward 29 Mar 01:00 UTC (01:00 GMT -> 02:00 BST) and falls back
// 25 Oct 01:00 UTC (02:00 BST -> 01:00 GMT); New York springs forward 8 Mar 07:00 UTC
// (02:00 EST -> 03:00 EDT) and falls back 1 Nov 06:00 UTC (02:00 EDT -> 01:00 EST).
describe("a schedule at a fixed wall-clock time fires once a day across DST", () => {
  test("Europe/London, spring forward: 01:30 does not exist and fires when the clock resumes at 02:00 BST", () => {
    expect(instants("30 1 * * *", "Europe/London", "2026-03-27T12:00:00Z", 3)).toEqual([
      "2026-03-28T01:30:00.000Z", // 01:30 GMT
      "2026-03-29T01:00:00.000Z", // 02:00 BST, the first instant after the gap
      "2026-03-30T00:30:00.000Z", // 01:30 BST
    ]);
  });

  test("Europe/London, fall back: 01:30 happens twice and fires at the first one only", () => {
    expect(instants("30 1 * * *", "Europe/London", "2026-10-23T12:00:00Z", 3)).toEqual([
      "2026-10-24T00:30:00.000Z", // 01:30 BST
      "2026-10-25T00:30:00.000Z", // 01:30 BST; not again at 01:30 GMT (01:30 UTC)
      "2026-10-26T01:30:00.000Z", // 01:30 GMT
    ]);
    // Asked from between the two passes, the next firing is the next day's.
    expect(iso([nextInstant("30 1 * * *", "Europe/London", new Date("2026-10-25T01:00:00Z"))])).toEqual(["2026-10-26T01:30:00.000Z"]);
  });

  test("America/New_York, spring forward: 02:30 does not exist and fires at 03:00 EDT", () => {
    expect(instants("30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z", 3)).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    // 01:30 exists on that day and is untouched.
    expect(instants("30 1 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2)).toEqual(["2026-03-08T06:30:00.000Z", "2026-03-09T05:30:00.000Z"]);
  });

  test("America/New_York, fall back: 01:30 happens twice and fires at 01:30 EDT only", () => {
    expect(instants("30 1 * * *", "America/New_York", "2026-10-30T12:00:00Z", 3)).toEqual([
      "2026-10-31T05:30:00.000Z",
      "2026-11-01T05:30:00.000Z", // 01:30 EDT; not again at 01:30 EST (06:30 UTC)
      "2026-11-02T06:30:00.000Z",
    ]);
  });

  test("a seconds-level time inside the skipped hour fires once, at the end of the gap", () => {
    expect(instants("15 30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", 2)).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:15.000Z"]);
  });

  test("over a whole year, a daily schedule fires exactly once on every local date", () => {
    for (const [timezone, cron] of [
      ["Europe/London", "30 1 * * *"],
      ["America/New_York", "30 2 * * *"],
      ["America/New_York", "30 1 * * *"],
    ] as const) {
      const fired = nextInstants(cron, timezone, new Date("2025-12-31T12:00:00Z"), 365);
      const localDates = fired.map((d) => d.toLocaleDateString("en-CA", { timeZone: timezone }));
      expect(new Set(localDates).size, `${cron} in ${timezone}`).toBe(365);
      expect(localDates[0]).toBe("2026-01-01");
      expect(localDates[364]).toBe("2026-12-31");
    }
  });
});

describe("an hourly schedule follows elapsed time across DST", () => {
  test("Europe/London: once per real hour through both transitions", () => {
    expect(instants("0 * * * *", "Europe/London", "2026-03-28T23:30:00Z", 4)).toEqual([
      "2026-03-29T00:00:00.000Z", // 00:00 GMT
      "2026-03-29T01:00:00.000Z", // 02:00 BST (01:00 never happens)
      "2026-03-29T02:00:00.000Z", // 03:00 BST
      "2026-03-29T03:00:00.000Z",
    ]);
    expect(instants("0 * * * *", "Europe/London", "2026-10-24T22:30:00Z", 5)).toEqual([
      "2026-10-24T23:00:00.000Z", // 00:00 BST
      "2026-10-25T00:00:00.000Z", // 01:00 BST
      "2026-10-25T01:00:00.000Z", // 01:00 GMT, the hour's second pass
      "2026-10-25T02:00:00.000Z", // 02:00 GMT
      "2026-10-25T03:00:00.000Z",
    ]);
  });

  test("America/New_York: once per real hour through both transitions", () => {
    expect(instants("0 * * * *", "America/New_York", "2026-03-08T05:30:00Z", 4)).toEqual([
      "2026-03-08T06:00:00.000Z", // 01:00 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT (02:00 never happens)
      "2026-03-08T08:00:00.000Z",
      "2026-03-08T09:00:00.000Z",
    ]);
    expect(instants("0 * * * *", "America/New_York", "2026-11-01T03:30:00Z", 5)).toEqual([
      "2026-11-01T04:00:00.000Z", // 00:00 EDT
      "2026-11-01T05:00:00.000Z", // 01:00 EDT
      "2026-11-01T06:00:00.000Z", // 01:00 EST
      "2026-11-01T07:00:00.000Z", // 02:00 EST
      "2026-11-01T08:00:00.000Z",
    ]);
  });

  test("a half-past schedule skips the missing hour without an extra run and keeps both passes of the repeated one", () => {
    expect(instants("30 * * * *", "Europe/London", "2026-03-28T23:45:00Z", 3)).toEqual(["2026-03-29T00:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-29T02:30:00.000Z"]);
    expect(instants("30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 3)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z", "2026-11-01T07:30:00.000Z"]);
  });

  test("over a whole year, an hourly schedule fires once per real hour", () => {
    const fired = nextInstants("0 * * * *", "Europe/London", new Date("2025-12-31T23:30:00Z"), 8760);
    expect(fired[0]!.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(fired.at(-1)!.toISOString()).toBe("2026-12-31T23:00:00.000Z");
    const irregular = fired.slice(1).filter((d, i) => d.getTime() - fired[i]!.getTime() !== 3_600_000);
    expect(iso(irregular)).toEqual([]);
  });

  test("seconds-level schedules fire every second through the repeated hour", () => {
    const fired = nextInstants("* * * * * *", "Europe/London", new Date("2026-10-25T00:59:58Z"), 4);
    expect(iso(fired)).toEqual(["2026-10-25T00:59:59.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T01:00:01.000Z", "2026-10-25T01:00:02.000Z"]);
  });
});

describe("expressions", () => {
  test("5 fields, 6 fields with seconds and aliases agree with cron-parser where no clock jumps (UTC)", () => {
    const after = new Date("2026-11-26T20:47:13.250Z");
    for (const cron of ["*/5 * * * *", "0 9 * * 1-5", "*/10 * * * * *", "0 0 1 * *", "@hourly", "15 10 L * *", "0 12 * * 5#2"]) {
      const expected = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: after }).take(5).map((d) => d.toDate().toISOString());
      expect(instants(cron, "UTC", after.toISOString(), 5), cron).toEqual(expected);
    }
  });

  test("instants are strictly after the given instant, even one that matches", () => {
    expect(instants("* * * * * *", "UTC", "2026-01-01T00:00:00.000Z", 2)).toEqual(["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z"]);
    expect(instants("* * * * * *", "UTC", "2026-01-01T00:00:00.400Z", 1)).toEqual(["2026-01-01T00:00:01.000Z"]);
    expect(instants("0 9 * * *", "Asia/Kolkata", "2026-01-01T03:30:00.000Z", 1)).toEqual(["2026-01-02T03:30:00.000Z"]);
  });

  test("the generator is lazy and endless", () => {
    const generator = cronInstants("0 0 1 1 *", "UTC", new Date("2026-06-01T00:00:00Z"));
    expect(generator.next().value.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(generator.next().value.toISOString()).toBe("2028-01-01T00:00:00.000Z");
  });

  test("validation names the bad input and says what is expected", () => {
    expect(validateCron("0 3 * * *", "Europe/London")).toBeNull();
    expect(validateCron("*/30 * * * * *", "UTC")).toBeNull();
    expect(validateCron("@daily", "America/New_York")).toBeNull();
    expect(validateCron("* * * *", "UTC")).toEqual({ path: "cron", message: expect.stringMatching(/has 4 fields; expected 5 .* or 6 \(seconds first\)/) });
    expect(validateCron("* * * * * * *", "UTC")).toMatchObject({ path: "cron", message: expect.stringContaining("has 7 fields") });
    expect(validateCron("61 * * * *", "UTC")).toMatchObject({ path: "cron", message: expect.stringContaining("61") });
    expect(validateCron("0 0 30 2 *", "UTC")).toMatchObject({ path: "cron" });
    expect(validateCron("every day", "UTC")).toMatchObject({ path: "cron" });
    expect(validateCron("   ", "UTC")).toMatchObject({ path: "cron", message: expect.stringContaining("empty") });
    expect(validateCron("0 3 * * *", "Mars/Olympus_Mons")).toEqual({ path: "timezone", message: expect.stringContaining("IANA") });
    expect(isValidCron("0 3 * * *")).toBe(true);
    expect(isValidCron("0 3 * *")).toBe(false);
    expect(() => nextInstants("0 3 * * *", "Not/A_Zone", new Date(), 1)).toThrow(/unknown time zone/);
  });
});

// 2027 in New York: clocks spring forward 14 Mar at 07:00 UTC (02:00 EST -> 03:00 EDT) and fall
// back 7 Nov at 06:00 UTC (02:00 EDT -> 01:00 EST).
describe("the preview marks instants that meet a DST change and says what the scheduler does", () => {
  const preview = (cron: string, timezone: string, after: string, count: number) =>
    cronPreview(cron, timezone, new Date(after), count).map((p) => ({ at: p.at.toISOString(), local: p.local, dst: p.dst }));

  test("01:30 daily in America/New_York on the spring-forward day: exists, fires normally, the day is marked", () => {
    expect(preview("30 1 * * *", "America/New_York", "2027-03-12T12:00:00Z", 3)).toEqual([
      { at: "2027-03-13T06:30:00.000Z", local: "2027-03-13T01:30:00", dst: null },
      { at: "2027-03-14T06:30:00.000Z", local: "2027-03-14T01:30:00", dst: "change-day" },
      { at: "2027-03-15T05:30:00.000Z", local: "2027-03-15T01:30:00", dst: null },
    ]);
    const [, day] = cronPreview("30 1 * * *", "America/New_York", new Date("2027-03-12T12:00:00Z"), 2);
    expect(day!.note).toMatch(/spring forward on 2027-03-14; 01:30 exists once and fires normally/);
    expect(day!.offsetMinutes).toBe(-300);
  });

  test("01:30 daily in America/New_York on the fall-back day: repeated, fires at the first pass (EDT) only", () => {
    const result = cronPreview("30 1 * * *", "America/New_York", new Date("2027-11-05T12:00:00Z"), 3);
    expect(result.map((p) => [p.at.toISOString(), p.dst])).toEqual([
      ["2027-11-06T05:30:00.000Z", null],
      ["2027-11-07T05:30:00.000Z", "repeated"],
      ["2027-11-08T06:30:00.000Z", null],
    ]);
    expect(result[1]!.note).toBe("01:30 happens twice on 2027-11-07 (clocks fall back); the scheduler fires at the first one only.");
    expect(result[1]!.offsetMinutes).toBe(-240);
    // The same instants as the scheduler's own sequence.
    expect(result.map((p) => p.at.toISOString())).toEqual(instants("30 1 * * *", "America/New_York", "2027-11-05T12:00:00Z", 3));
  });

  test("02:30 daily on the spring-forward day is skipped and fires when the clock resumes at 03:00 EDT", () => {
    const [, skipped] = cronPreview("30 2 * * *", "America/New_York", new Date("2027-03-12T12:00:00Z"), 2);
    expect(skipped!.at.toISOString()).toBe("2027-03-14T07:00:00.000Z");
    expect(skipped!.local).toBe("2027-03-14T03:00:00");
    expect(skipped!.dst).toBe("skipped");
    expect(skipped!.note).toBe("02:30 does not exist on 2027-03-14 (clocks spring forward); the scheduler fires when the clock resumes, at 03:00.");
  });

  test("an every-30-minutes schedule fires in both passes of the repeated hour and nothing in the skipped one", () => {
    expect(preview("*/30 * * * *", "America/New_York", "2027-11-07T04:45:00Z", 5).map((p) => [p.local, p.dst])).toEqual([
      ["2027-11-07T01:00:00", "repeated"],
      ["2027-11-07T01:30:00", "repeated"],
      ["2027-11-07T01:00:00", "repeated"],
      ["2027-11-07T01:30:00", "repeated"],
      ["2027-11-07T02:00:00", null],
    ]);
    expect(preview("*/30 * * * *", "America/New_York", "2027-03-14T06:15:00Z", 3)).toEqual([
      { at: "2027-03-14T06:30:00.000Z", local: "2027-03-14T01:30:00", dst: null },
      { at: "2027-03-14T07:00:00.000Z", local: "2027-03-14T03:00:00", dst: "gap" },
      { at: "2027-03-14T07:30:00.000Z", local: "2027-03-14T03:30:00", dst: null },
    ]);
  });

  test("a zone without DST marks nothing; seconds-level expressions preview too", () => {
    expect(preview("*/10 * * * * *", "UTC", "2027-03-14T00:00:00Z", 3)).toEqual([
      { at: "2027-03-14T00:00:10.000Z", local: "2027-03-14T00:00:10", dst: null },
      { at: "2027-03-14T00:00:20.000Z", local: "2027-03-14T00:00:20", dst: null },
      { at: "2027-03-14T00:00:30.000Z", local: "2027-03-14T00:00:30", dst: null },
    ]);
    expect(cronPreview("0 3 * * *", "UTC", new Date(), 0)).toEqual([]);
  });
});

test("two walks of the same expression at once keep their own positions (parsed expressions are shared)", () => {
  const a = cronInstants("*/15 * * * *", "Europe/London", new Date("2026-11-27T12:00:00Z"));
  const b = cronInstants("*/15  * * * *", "Europe/London", new Date("2026-11-27T18:00:00Z"));
  const taken = [a.next().value, b.next().value, a.next().value, b.next().value].map((d) => d.toISOString());
  expect(taken).toEqual(["2026-11-27T12:15:00.000Z", "2026-11-27T18:15:00.000Z", "2026-11-27T12:30:00.000Z", "2026-11-27T18:30:00.000Z"]);
  expect(nextInstant("*/15 * * * *", "UTC", new Date("2026-11-27T12:07:00Z")).toISOString()).toBe("2026-11-27T12:15:00.000Z");
});
