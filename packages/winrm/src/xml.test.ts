import { describe, expect, it } from "vitest";
import { attr, findAll, findFirst, parseXml } from "./xml.ts";

describe("the client's XML reader", () => {
  it("reads elements, prefixed names, attributes in either quote with > inside, entities, CDATA, and skips comments and declarations", () => {
    const root = parseXml(
      `\uFEFF<?xml version="1.0" encoding="utf-8"?><s:Envelope xml:lang="en-US" xmlns:s="urn:s" a:b='x>y' c = "1&amp;2">` +
        `<s:Body><!-- a > comment --><r:Stream Name="stdout" CommandId="C1" End="true">aGk=</r:Stream>` +
        `<r:T>a &amp; b &lt; &#x41;&#66; <![CDATA[<raw & kept>]]></r:T><r:Empty  x = 'y' /></s:Body></s:Envelope>`,
    );
    expect(root).toMatchObject({ name: "s:Envelope", local: "Envelope", attrs: { "xml:lang": "en-US", "xmlns:s": "urn:s", "a:b": "x>y", c: "1&2" } });
    const stream = findFirst(root, "Stream");
    expect(stream && attr(stream, "CommandId")).toBe("C1");
    expect(stream?.text).toBe("aGk=");
    expect(findFirst(root, "T")?.text).toBe("a & b < AB <raw & kept>");
    expect(findFirst(root, "Empty")).toMatchObject({ attrs: { x: "y" }, children: [], text: "" });
    expect(findAll(root, "Body")[0]?.children.map((c) => c.local)).toEqual(["Stream", "T", "Empty"]);
  });

  it("refuses what is not one well-formed document, naming the offset", () => {
    for (const [xml, message] of [
      ["<a>", /unclosed element <a> at offset/],
      ["<a></b>", /end tag <\/b> does not match <a>/],
      ["x<a/>", /text outside the root element/],
      ["<a/><b/>", /more than one root element/],
      ["<!DOCTYPE x><a/>", /DTDs are not accepted/],
      ["<a", /unterminated start tag/],
      ["<a><!-- x", /unterminated comment/],
      ["", /no root element/],
      ["<a/>trailing", /text outside the root element/],
    ] as const) {
      expect(() => parseXml(xml), xml).toThrow(message);
    }
  });
});
