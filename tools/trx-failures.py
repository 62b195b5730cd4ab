#!/usr/bin/env python3
"""Print the failed tests of a VSTest TRX file: name, duration, first lines of the message and stack."""
import sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
failed = [r for r in root.iterfind(".//t:UnitTestResult", ns) if r.get("outcome") == "Failed"]
print(f"\n== {len(failed)} failed test(s) ==")
for r in failed:
    print(f"\n-- {r.get('testName')} ({r.get('duration')})")
    for tag in ("Message", "StackTrace"):
        el = r.find(f".//t:ErrorInfo/t:{tag}", ns)
        if el is not None and el.text:
            lines = el.text.strip().splitlines()
            print("\n".join("   " + line for line in lines[:25]))
            if len(lines) > 25:
                print(f"   ... {len(lines) - 25} more lines")
