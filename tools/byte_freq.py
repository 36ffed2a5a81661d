#!/usr/bin/env python3
"""Prints the byte-frequency table of src/engine/matcher/byte_freq.rs.

The prefilter groups its literals into Teddy buckets by how often text bytes
fit each bucket (see src/engine/matcher/buckets.rs), so it needs to know how
common each byte is in the files people commit. This reads up to --budget
bytes of each kind of text file under the given directories, the same share
for each kind so that no language outweighs the rest, skips files with a NUL
byte in their first 8000 bytes (binaries), and prints 256 counts per million.

The table in the tree was made with:
  python3 tools/byte_freq.py ~/.cargo/registry/src \
      ~/.pyenv/versions/3.11.7/lib/python3.11 /usr/lib/node_modules /usr/share/doc
(crates.io sources, the Python standard library, npm, Debian's docs), never
with the benchmark corpora, which would tune the grouping to them.
"""
import argparse
import collections
import os

KINDS = ['.rs', '.py', '.js', '.ts', '.json', '.md', '.toml', '.yml', '.yaml',
         '.html', '.css', '.c', '.h', '.go', '.java', '.rb', '.sh', '.txt',
         '.cfg', '.ini']


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('roots', nargs='+')
    ap.add_argument('--budget', type=int, default=4_000_000,
                    help='bytes read per file kind (default 4,000,000)')
    a = ap.parse_args()
    seen = collections.Counter()
    counts = collections.Counter()
    for root in a.roots:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                kind = os.path.splitext(f)[1]
                if kind not in KINDS or seen[kind] >= a.budget:
                    continue
                try:
                    with open(os.path.join(d, f), 'rb') as fh:
                        b = fh.read(a.budget - seen[kind])
                except OSError:
                    continue
                if b'\0' in b[:8000]:
                    continue
                seen[kind] += len(b)
                counts.update(b)
    total = sum(counts.values()) or 1
    print('// read:', ', '.join(f'{k} {v // 1000} KB' for k, v in sorted(seen.items())))
    scaled = [round(counts[b] * 1_000_000 / total) for b in range(256)]
    for row in range(0, 256, 16):
        print('    ' + ' '.join(f'{v},' for v in scaled[row:row + 16]))


main()
