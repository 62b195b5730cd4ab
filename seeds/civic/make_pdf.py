#!/usr/bin/env python3
"""Writes the Lakeshore PDF minutes from pdf-src/*.txt: one page per 30 lines, Helvetica, one Tj per line,
content streams FlateDecode-compressed (the first page of each file is left uncompressed, so both paths of the
platform's PDF extractor are exercised). Run once; the PDFs are committed."""
import pathlib, zlib

def esc(s):
    return s.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)')

def pdf(lines):
    pages = [lines[i:i + 30] for i in range(0, len(lines), 30)] or [[]]
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    n = 4
    for i, page in enumerate(pages):
        ops = ["BT", "/F1 10 Tf", "12 TL", "50 790 Td"]
        for line in page:
            ops.append("(%s) Tj T*" % esc(line))
        ops.append("ET")
        raw = "\n".join(ops).encode("latin-1")
        if i == 0:
            stream = b"<< /Length %d >>\nstream\n" % len(raw) + raw + b"\nendstream"
        else:
            z = zlib.compress(raw)
            stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(z) + z + b"\nendstream"
        objs[n] = stream
        objs[n + 1] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % n
        kids.append(n + 1)
        n += 2
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for k in sorted(objs):
        offsets[k] = len(out)
        out += b"%d 0 obj\n" % k + objs[k] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for k in sorted(objs):
        out += b"%010d 00000 n \n" % offsets[k]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)

here = pathlib.Path(__file__).parent
for src in sorted((here / "pdf-src").glob("*.txt")):
    (here / "lakeshore" / (src.stem + ".pdf")).write_bytes(pdf(src.read_text().splitlines()))
