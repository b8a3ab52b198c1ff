#!/usr/bin/env python3
"""Extract AST node spans and token spans from Python sources into two CSV files.

This is the input side of the datafusion-cpg demo (``examples/demo.sql``): it turns a
tree of ``*.py`` files into flat tables that DataFusion reads with ``CREATE EXTERNAL
TABLE ... STORED AS CSV``, and from which the demo builds a small code property graph
with ``stable_id``, ``span_contains``, ``qname_normalize`` and friends.

Usage::

    python3 examples/extract_spans.py SRC_DIR OUT_DIR [--limit N]

Every ``*.py`` file under SRC_DIR is processed in sorted order of its relative POSIX
path (``--limit N`` keeps the first N of them), so the output is deterministic for a
given source tree and Python version. Only the standard library is used. A file that
cannot be read, decoded, parsed or tokenized is skipped with a message on stderr.

Spans
-----
All spans are half-open BYTE ranges ``[bstart, bend)`` into the file exactly as it is
stored on disk: ``raw_bytes[bstart:bend]`` is the text of the node or token. For a
UTF-8 file (the normal case) these are UTF-8 byte offsets; a file with a UTF-8 BOM
counts the BOM's 3 bytes; a file declaring another (ASCII-compatible) encoding with
a coding cookie gets offsets into its own bytes.

Positions are converted as follows. Lines are split the way the CPython tokenizer
splits them (at ``\\r\\n``, ``\\r`` or ``\\n``; not at form feeds or other Unicode line
separators) and the byte offset of every line start is computed. The ``ast``
module reports ``col_offset`` as a UTF-8 byte offset within the line; ``tokenize``
reports the column as a character (code point) offset; each is converted to an
absolute byte offset of the file through its line.

``ast_nodes.csv``
-----------------
One row per AST node that has a position, in pre-order (document order):

=============  =====================================================================
path           file path relative to SRC_DIR, with ``/`` separators
bstart, bend   byte span of the node
kind           AST node class name (``FunctionDef``, ``Name``, ``Call``, ...)
name           ``name`` of FunctionDef / AsyncFunctionDef / ClassDef, ``id`` of Name,
               ``attr`` of Attribute, ``name`` of alias (the imported dotted name),
               ``arg`` of arg; empty otherwise
depth          0 for the Module, parent's depth + 1 otherwise
parent_bstart  span of the parent node ...
parent_bend    ...
parent_kind    ... and its kind; all three empty for the Module
=============  =====================================================================

The Module row spans the whole file (``0 .. len(raw_bytes)``). Nodes without a
position (``Load``/``Store`` contexts, operators, ``arguments``, ``comprehension``,
``withitem``, ``match_case``, ...) are not emitted; their children are attached to the
nearest emitted ancestor, and ``depth`` counts emitted ancestors only.

``(path, bstart, bend, kind)`` is a key of the table: before Python 3.12 the parts of an
f-string (its ``Constant`` and ``FormattedValue`` children, and those of a nested
format spec) all carry the span of the whole f-string, so a node whose
``(bstart, bend, kind)`` repeats one already emitted for the same file is folded into
that earlier node (its children are attached to it); the number folded is reported on
stderr.

``tokens.csv``
--------------
One row per token from ``tokenize``, in order:

=============  =====================================================================
path           as above
bstart, bend   byte span of the token
kind           ``tokenize.tok_name`` of the token type (``NAME``, ``OP``, ``STRING``,
               ``NUMBER``, ``COMMENT``, ...; ``OP`` is not refined to the exact
               operator)
text           the token string
=============  =====================================================================

The layout-only tokens ``NEWLINE``, ``NL``, ``INDENT``, ``DEDENT``, ``ENDMARKER`` and
``ENCODING`` are left out; ``COMMENT`` tokens are kept. Every emitted token is checked
against the source (``raw_bytes[bstart:bend]`` decodes to the token string); a token
that does not match is still written, and the count of such tokens is reported on
stderr. (Python 3.12.1, for one, reports the end column of a multi-line string whose
last line holds non-ASCII characters in bytes rather than characters; 3.11 and 3.13
do not.)

Both files are UTF-8, comma-separated, with a header row, ``\\n`` line endings and
RFC 4180 quoting (fields containing a comma, a quote or a line break are quoted; a
quote inside is doubled). Token text may contain line breaks inside quotes, so
readers must allow newlines in quoted values (DataFusion: ``'format.newlines_in_values'
'true'``). Empty fields denote missing values.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import pathlib
import re
import sys
import tokenize
import warnings

AST_HEADER = [
    "path",
    "bstart",
    "bend",
    "kind",
    "name",
    "depth",
    "parent_bstart",
    "parent_bend",
    "parent_kind",
]
TOKEN_HEADER = ["path", "bstart", "bend", "kind", "text"]

# Token types that only describe layout.
SKIPPED_TOKENS = frozenset(
    {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.ENCODING,
    }
)

# The attribute holding the identifier of a node kind.
NAME_ATTRS = {
    "FunctionDef": "name",
    "AsyncFunctionDef": "name",
    "ClassDef": "name",
    "Name": "id",
    "Attribute": "attr",
    "alias": "name",
    "arg": "arg",
}

# Line breaks as the CPython tokenizer sees them.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SkipFile(Exception):
    """The file cannot be processed; the message says why."""


class SourceFile:
    """A decoded source file with the byte offset of every line start."""

    def __init__(self, raw: bytes):
        self.raw = raw
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:
            raise SkipFile(f"encoding: {exc}") from exc
        self.bom = len(b"\xef\xbb\xbf") if encoding == "utf-8-sig" else 0
        self.codec = "utf-8" if encoding == "utf-8-sig" else encoding
        self.is_utf8 = self.codec.lower().replace("_", "-") in ("utf-8", "utf8")
        try:
            self.text = raw[self.bom :].decode(self.codec)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SkipFile(f"decode as {encoding}: {exc}") from exc
        if raw[self.bom :] != self.text.encode(self.codec):
            raise SkipFile(f"{encoding} does not round-trip, byte offsets would be wrong")

        # lines[i] is line i + 1 with its line break; starts[i] is its byte offset.
        self.lines: list[str] = []
        self.starts: list[int] = []
        offset, pos = self.bom, 0
        for m in LINE_BREAK.finditer(self.text):
            line = self.text[pos : m.end()]
            self.lines.append(line)
            self.starts.append(offset)
            offset += len(line.encode(self.codec))
            pos = m.end()
        # The last line, possibly empty; positions at end of file fall on it.
        self.lines.append(self.text[pos:])
        self.starts.append(offset)
        self._utf8_lines: dict[int, bytes] = {}

    def _line(self, lineno: int) -> str:
        if not 1 <= lineno <= len(self.lines):
            raise SkipFile(f"line {lineno} out of range 1..{len(self.lines)}")
        return self.lines[lineno - 1]

    def from_char_col(self, lineno: int, col: int) -> int:
        """Byte offset of (1-based line, code point column), as tokenize reports."""
        line = self._line(lineno)
        if not 0 <= col <= len(line):
            raise SkipFile(f"column {col} out of range on line {lineno}")
        prefix = line[:col]
        if prefix.isascii():
            return self.starts[lineno - 1] + col
        return self.starts[lineno - 1] + len(prefix.encode(self.codec))

    def from_utf8_col(self, lineno: int, col: int) -> int:
        """Byte offset of (1-based line, UTF-8 byte column), as ast reports."""
        line = self._line(lineno)
        if self.is_utf8 or line.isascii():
            return self.starts[lineno - 1] + col
        utf8 = self._utf8_lines.get(lineno)
        if utf8 is None:
            utf8 = self._utf8_lines[lineno] = line.encode("utf-8")
        try:
            chars = len(utf8[:col].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SkipFile(f"column {col} splits a character on line {lineno}") from exc
        return self.from_char_col(lineno, chars)


def node_rows(rel: str, src: SourceFile) -> tuple[list[list], int]:
    """Pre-order rows of ast_nodes.csv for one file, and how many nodes were folded."""
    try:
        # Silence SyntaxWarnings (invalid escape sequences and the like): they are about
        # the code, not about extracting it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(src.text, filename=rel)
    except (SyntaxError, ValueError) as exc:
        raise SkipFile(f"parse: {exc}") from exc

    rows: list[list] = []
    seen: dict[tuple[int, int, str], tuple[int, int, str, int]] = {}
    folded = 0
    module = (0, len(src.raw), type(tree).__name__, 0)
    rows.append([rel, 0, len(src.raw), module[2], "", 0, "", "", ""])

    # Stack of (node, nearest emitted ancestor); children pushed reversed so that
    # popping visits them in source order.
    stack = [(child, module) for child in reversed(list(ast.iter_child_nodes(tree)))]
    while stack:
        node, parent = stack.pop()
        current = parent
        end_lineno = getattr(node, "end_lineno", None)
        end_col = getattr(node, "end_col_offset", None)
        if (
            getattr(node, "lineno", None) is not None
            and getattr(node, "col_offset", None) is not None
            and end_lineno is not None
            and end_col is not None
        ):
            kind = type(node).__name__
            bstart = src.from_utf8_col(node.lineno, node.col_offset)
            bend = src.from_utf8_col(end_lineno, end_col)
            key = (bstart, bend, kind)
            if key in seen:
                current = seen[key]
                folded += 1
            else:
                current = (bstart, bend, kind, parent[3] + 1)
                seen[key] = current
                attr = NAME_ATTRS.get(kind)
                name = getattr(node, attr, None) if attr else None
                rows.append(
                    [
                        rel,
                        bstart,
                        bend,
                        kind,
                        name or "",
                        current[3],
                        parent[0],
                        parent[1],
                        parent[2],
                    ]
                )
        stack.extend((child, current) for child in reversed(list(ast.iter_child_nodes(node))))
    return rows, folded


def token_rows(rel: str, src: SourceFile) -> tuple[list[list], int]:
    """Rows of tokens.csv for one file, and how many tokens do not match their span."""
    rows: list[list] = []
    mismatched = 0
    readline = io.StringIO(src.text, newline="").readline
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokens = list(tokenize.generate_tokens(readline))
        for tok in tokens:
            if tok.type in SKIPPED_TOKENS:
                continue
            bstart = src.from_char_col(*tok.start)
            bend = src.from_char_col(*tok.end)
            if src.raw[bstart:bend].decode(src.codec, errors="replace") != tok.string:
                mismatched += 1
            rows.append([rel, bstart, bend, tokenize.tok_name[tok.type], tok.string])
    except (tokenize.TokenError, SyntaxError) as exc:
        raise SkipFile(f"tokenize: {exc}") from exc
    return rows, mismatched


class CsvOut:
    """A CSV file with RFC 4180 quoting and ``\\n`` line endings."""

    def __init__(self, path: pathlib.Path, header: list[str]):
        self.file = open(path, "w", encoding="utf-8", newline="")
        self.plain = csv.writer(self.file, lineterminator="\n")
        # The csv module does not quote a lone '\r' when the line terminator is '\n';
        # rows holding one are written with every string field quoted.
        self.quoted = csv.writer(self.file, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        self.plain.writerow(header)
        self.count = 0

    def write(self, rows: list[list]) -> None:
        for row in rows:
            if any(isinstance(v, str) and "\r" in v for v in row):
                self.quoted.writerow(row)
            else:
                self.plain.writerow(row)
        self.count += len(rows)

    def close(self) -> None:
        self.file.close()


def python_files(src_dir: pathlib.Path) -> list[tuple[str, pathlib.Path]]:
    """(relative POSIX path, path) of every *.py file under src_dir, sorted."""
    found = [
        (p.relative_to(src_dir).as_posix(), p) for p in src_dir.rglob("*.py") if p.is_file()
    ]
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write ast_nodes.csv and tokens.csv (byte spans) for the *.py files "
        "under SRC_DIR.",
    )
    parser.add_argument("src_dir", metavar="SRC_DIR", type=pathlib.Path)
    parser.add_argument("out_dir", metavar="OUT_DIR", type=pathlib.Path)
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="process only the first N files"
    )
    args = parser.parse_args(argv)

    if not args.src_dir.is_dir():
        parser.error(f"SRC_DIR {args.src_dir} is not a directory")
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must be >= 0")
    files = python_files(args.src_dir)
    if args.limit is not None:
        files = files[: args.limit]
    args.out_dir.mkdir(parents=True, exist_ok=True)

    nodes_out = CsvOut(args.out_dir / "ast_nodes.csv", AST_HEADER)
    tokens_out = CsvOut(args.out_dir / "tokens.csv", TOKEN_HEADER)
    done = skipped = folded = mismatched = 0
    try:
        for rel, path in files:
            try:
                src = SourceFile(path.read_bytes())
                nodes, n_folded = node_rows(rel, src)
                tokens, n_mismatched = token_rows(rel, src)
            except (OSError, SkipFile, RecursionError, MemoryError) as exc:
                print(f"extract_spans: skipping {rel}: {exc}", file=sys.stderr)
                skipped += 1
                continue
            # Write only once both succeeded, so a skipped file leaves no rows.
            nodes_out.write(nodes)
            tokens_out.write(tokens)
            done += 1
            folded += n_folded
            mismatched += n_mismatched
    finally:
        nodes_out.close()
        tokens_out.close()

    print(
        f"extract_spans: {done} files ({skipped} skipped): {nodes_out.count} AST nodes, "
        f"{tokens_out.count} tokens -> {args.out_dir}",
        file=sys.stderr,
    )
    if folded:
        print(
            f"extract_spans: folded {folded} AST nodes repeating the (span, kind) of another "
            "(f-string parts before Python 3.12)",
            file=sys.stderr,
        )
    if mismatched:
        print(
            f"extract_spans: {mismatched} tokens differ from the source text of their span",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
