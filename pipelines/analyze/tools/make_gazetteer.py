#!/usr/bin/env python3
"""Writes pipelines/analyze/gazetteer.tsv from the division codes carried by the PyPI package cpca.

Usage (from the repository root):
    pip download --no-deps -d /tmp/cpca cpca==0.5.5 && (cd /tmp/cpca && unzip -o -q cpca-0.5.5-py3-none-any.whl)
    python3 pipelines/analyze/tools/make_gazetteer.py /tmp/cpca/cpca/resources/adcodes.csv > pipelines/analyze/gazetteer.tsv
"""
import csv
import sys

PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

HEADER = """\
# China's administrative divisions: provinces, prefecture-level cities and county-level divisions,
# with their national division codes (GB/T 2260, six digits).
# Source: the file resources/adcodes.csv of the PyPI package cpca 0.5.5
# (https://github.com/DQinYuan/chinese_province_city_area_mapper), MIT License,
# Copyright (c) DQinYuan. Converted by pipelines/analyze/tools/make_gazetteer.py; placeholder rows
# (市辖区, 县, 省直辖县级行政区划) dropped; the parent of a county directly under a province or a
# municipality is that province or municipality.
# Columns: code, name, level (province|city|county), parent code (empty for provinces).
"""


def main(path):
    rows = list(csv.reader(open(path, encoding="utf-8")))[1:]
    by_code = {}
    for code, name, *_ in rows:
        code6 = code[:6]
        if name in PLACEHOLDERS:
            continue
        by_code[code6] = name
    out = []
    for code6, name in by_code.items():
        if code6[2:] == "0000":
            level, parent = "province", ""
        elif code6[4:] == "00":
            level, parent = "city", code6[:2] + "0000"
        else:
            level = "county"
            parent = code6[:4] + "00"
            if parent not in by_code:
                parent = code6[:2] + "0000"
        out.append((code6, name, level, parent))
    out.sort()
    sys.stdout.write(HEADER)
    for row in out:
        sys.stdout.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
