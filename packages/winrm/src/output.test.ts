import { describe, expect, it } from "vitest";
import { ClixmlDecoder, OutputDecoder, StreamDecoder } from "./output.ts";

function feedBytes(decoder: StreamDecoder, bytes: Buffer, size: number): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += size) out += decoder.write(bytes.subarray(i, i + size));
  return out + decoder.end();
}

function feedText(decoder: ClixmlDecoder, text: string, size: number): string {
  let out = "";
  for (let i = 0; i < text.length; i += size) out += decoder.write(text.slice(i, i + size));
  return out + decoder.end();
}

describe("StreamDecoder", () => {
  it("decodes every split of multi-byte UTF-8 and drops only a leading BOM", () => {
    const text = "a€b😀c\uFEFFd";
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    for (let size = 1; size <= bytes.length; size++) expect(feedBytes(new StreamDecoder(), bytes, size)).toBe(text);
  });

  it("turns a truncated sequence at the very end into U+FFFD instead of dropping it", () => {
    expect(feedBytes(new StreamDecoder(), Buffer.from([0x61, 0xe2, 0x82]), 1)).toBe("a\uFFFD");
  });
});

describe("ClixmlDecoder", () => {
  const doc =
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
    '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN><MS><Obj N="nested" RefId="1"><MS/></Obj><I64 N="SourceId">1</I64></MS></Obj>' +
    '<S S="Error">x &amp; y _x00E9_ _xD83D__xDE00__x000D__x000A_</S><S S="verbose">loud_x000D__x000A_</S><S S="debug">dbg_x000D__x000A_</S></Objs>';

  it("yields the console text for every chunking of a document", () => {
    const expected = "x & y é 😀\r\nVERBOSE: loud\r\nDEBUG: dbg\r\n";
    for (const size of [1, 2, 5, 13, doc.length]) expect(feedText(new ClixmlDecoder(), doc, size)).toBe(expected);
  });

  it("handles two CLIXML documents in a row and plain text after them", () => {
    const two = `${doc}\r\n${doc.replace("x &amp; y", "second")}\r\ntrailing plain text`;
    expect(feedText(new ClixmlDecoder(), two, 7)).toBe(
      "x & y é 😀\r\nVERBOSE: loud\r\nDEBUG: dbg\r\nsecond é 😀\r\nVERBOSE: loud\r\nDEBUG: dbg\r\ntrailing plain text",
    );
  });

  it("passes text that is not CLIXML through untouched, even when it starts like it", () => {
    expect(feedText(new ClixmlDecoder(), "#<not clixml> & <b>", 1)).toBe("#<not clixml> & <b>");
    expect(feedText(new ClixmlDecoder(), "Access denied\r\n", 3)).toBe("Access denied\r\n");
  });

  it("returns an unfinished document raw at the end rather than losing it", () => {
    expect(feedText(new ClixmlDecoder(), '#< CLIXML\r\n<Objs><S S="Error">cut off', 4)).toBe('<S S="Error">cut off');
  });
});

describe("OutputDecoder", () => {
  it("keeps stdout and stderr decoders apart", () => {
    const d = new OutputDecoder();
    const euro = Buffer.from("€");
    expect(d.write("stdout", euro.subarray(0, 1))).toEqual({ stream: "stdout", text: "" });
    expect(d.write("stderr", Buffer.from("err"))).toEqual({ stream: "stderr", text: "err" });
    expect(d.write("stdout", euro.subarray(1))).toEqual({ stream: "stdout", text: "€" });
    expect(d.end()).toEqual({ stdout: "", stderr: "" });
  });
});
