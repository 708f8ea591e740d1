import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base64Content, child, parseXml, parseXmlBytes } from "./xml.ts";

const NS = 'xmlns:r="urn:r"';

describe("the test server's XML reader on request bytes", () => {
  it("reads a large base64 text as the bytes it encodes, and as the same text as parseXml", () => {
    const data = randomBytes(400_000);
    const b64 = data.toString("base64");
    const xml = `<?xml version="1.0"?><r:Send ${NS}><r:Stream Name="stdin" End="true">${b64}</r:Stream></r:Send>`;
    const fromBytes = parseXmlBytes(Buffer.from(xml, "latin1"));
    const stream = child(fromBytes, "urn:r", "Stream");
    expect(stream?.attrs).toEqual({ Name: "stdin", End: "true" });
    expect(base64Content(stream).equals(data)).toBe(true);
    expect(stream?.text).toBe(b64);
    expect(child(parseXml(xml), "urn:r", "Stream")?.text).toBe(b64);
  });

  it("decodes base64 with line breaks inside, and small or empty streams", () => {
    const data = randomBytes(120_000);
    const wrapped = (data.toString("base64").match(/.{1,76}/g) ?? []).join("\n");
    const stream = child(parseXmlBytes(Buffer.from(`<r:S ${NS}><r:Stream>\n${wrapped}\n</r:Stream></r:S>`)), "urn:r", "Stream");
    expect(base64Content(stream).equals(data)).toBe(true);
    expect(base64Content(child(parseXmlBytes(Buffer.from(`<r:S ${NS}><r:Stream>aGk=</r:Stream></r:S>`)), "urn:r", "Stream")).toString()).toBe("hi");
    expect(base64Content(child(parseXmlBytes(Buffer.from(`<r:S ${NS}><r:Stream/></r:S>`)), "urn:r", "Stream"))).toHaveLength(0);
  });

  it("gives every other place a large run can sit the text it had: after a > in text, in CDATA, comments and with more text after it", () => {
    const run = "A".repeat(40_000);
    const xml =
      `<r:Doc ${NS}>` +
      `<r:Gt>a >${run}</r:Gt>` +
      `<r:Cdata><![CDATA[x >${run}<y]]></r:Cdata>` +
      `<!-- c >${run}< -->` +
      `<r:Mixed>${run}<!-- split -->tail</r:Mixed>` +
      `<r:Entity>${run}&amp;</r:Entity>` +
      `</r:Doc>`;
    const fromBytes = parseXmlBytes(Buffer.from(xml, "utf8"));
    const fromText = parseXml(xml);
    for (const name of ["Gt", "Cdata", "Mixed", "Entity"]) {
      expect(child(fromBytes, "urn:r", name)?.text, name).toBe(child(fromText, "urn:r", name)?.text);
    }
    expect(child(fromBytes, "urn:r", "Mixed")?.text).toBe(`${run}tail`);
  });

  it("keeps UTF-8 around a large run, reads UTF-16 with its byte order mark, and still refuses what parseXml refuses", () => {
    const run = "B".repeat(50_000);
    const utf8 = parseXmlBytes(Buffer.from(`<r:Doc ${NS} r:name="é"><r:A>ü${run}</r:A><r:B>${run}</r:B></r:Doc>`, "utf8"));
    expect(utf8.attrs.name).toBe("é");
    expect(child(utf8, "urn:r", "A")?.text).toBe(`ü${run}`);
    expect(child(utf8, "urn:r", "B")?.text).toBe(run);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<r:Doc ${NS}>${run}</r:Doc>`, "utf16le")]);
    expect(parseXmlBytes(utf16).text).toBe(run);
    expect(() => parseXmlBytes(Buffer.from(`<r:Doc ${NS}></r:Doc>${run}`))).toThrow(/text outside the root element/);
    expect(() => parseXmlBytes(Buffer.from(`<r:Doc ${NS} r:a=">${run}<"/>`))).toThrow(/< in an attribute value/);
    expect(() => parseXmlBytes(Buffer.from(`<r:Doc ${NS}>${run}`))).toThrow(/unclosed element/);
  });
});
