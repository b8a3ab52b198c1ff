-- datafusion-cpg demo: a small code property graph (CPG) from AST and token spans.
--
-- Run from the repository root:
--
--     bash scripts/demo          (= cargo run -p datafusion-cpg-cli -- -f examples/demo.sql)
--
-- The input is examples/data/{ast_nodes,tokens}.csv, written by
-- `python3 examples/extract_spans.py SRC_DIR examples/data` over ~20 CPython standard
-- library modules (see examples/data/SOURCES.md). All spans are half-open byte ranges
-- [bstart, bend) into the source file.
--
-- What it builds:
--   cpg_nodes     one row per AST node, keyed by stable_id('node', path, bstart, bend, kind)
--   cpg_tokens    one row per token,    keyed by stable_id('token', path, bstart, bend, kind)
--   cpg_edges     AST_PARENT (node -> parent node) and TOKEN_OF (token -> innermost
--                 AST node containing it, found with span_contains)
--   definitions   functions and classes with qname_normalize'd qualified names
--   function_args argument names per function, exploded with list_enumerate
-- and finishes with checks (ids unique, every edge endpoint exists) and summaries.

-------------------------------------------------------------------------------
-- Inputs. Explicit schemas: the `name`/`parent_*` columns are mostly empty, which
-- schema inference would get wrong. Token text holds multi-line strings, hence
-- newlines_in_values. Empty CSV fields read as NULL.
-------------------------------------------------------------------------------

CREATE EXTERNAL TABLE ast_nodes (
    path          VARCHAR NOT NULL,
    bstart        BIGINT  NOT NULL,
    bend          BIGINT  NOT NULL,
    kind          VARCHAR NOT NULL,
    name          VARCHAR,
    depth         INT     NOT NULL,
    parent_bstart BIGINT,
    parent_bend   BIGINT,
    parent_kind   VARCHAR
)
STORED AS CSV
LOCATION 'examples/data/ast_nodes.csv'
OPTIONS ('format.has_header' 'true', 'format.newlines_in_values' 'true');

CREATE EXTERNAL TABLE tokens (
    path   VARCHAR NOT NULL,
    bstart BIGINT  NOT NULL,
    bend   BIGINT  NOT NULL,
    kind   VARCHAR NOT NULL,
    text   VARCHAR
)
STORED AS CSV
LOCATION 'examples/data/tokens.csv'
OPTIONS ('format.has_header' 'true', 'format.newlines_in_values' 'true');

SELECT 'ast_nodes.csv' AS input, count(*) AS rows, count(DISTINCT path) AS files FROM ast_nodes
UNION ALL
SELECT 'tokens.csv', count(*), count(DISTINCT path) FROM tokens
ORDER BY input;

-------------------------------------------------------------------------------
-- Nodes. The id is a pure function of (path, span, kind): any process, in any
-- language, computes the same id without a lookup table. span_hash is a 64-bit
-- hash of the span alone.
-------------------------------------------------------------------------------

CREATE TABLE cpg_nodes AS
SELECT
    stable_id('node', path, bstart, bend, kind) AS node_id,
    path,
    -- module name: json/decoder.py -> json.decoder, json/__init__.py -> json
    replace(regexp_replace(path, '(/__init__)?\.py$', ''), '/', '.') AS module,
    bstart,
    bend,
    kind,
    name,
    depth,
    span_len(bstart, bend) AS len,
    stable_hash64(path, bstart, bend) AS span_hash,
    parent_bstart,
    parent_bend,
    parent_kind
FROM ast_nodes;

CREATE TABLE cpg_tokens AS
SELECT
    stable_id('token', path, bstart, bend, kind) AS token_id,
    path,
    bstart,
    bend,
    kind,
    text
FROM tokens;

-------------------------------------------------------------------------------
-- AST_PARENT edges. The parent's id is recomputed from the parent span columns,
-- so no join is needed to link a child to its parent.
-------------------------------------------------------------------------------

CREATE TABLE ast_parent_edges AS
SELECT
    stable_id('edge', child_id, parent_id, 'AST_PARENT') AS edge_id,
    child_id AS src,
    parent_id AS dst,
    'AST_PARENT' AS kind
FROM (
    SELECT
        node_id AS child_id,
        stable_id('node', path, parent_bstart, parent_bend, parent_kind) AS parent_id
    FROM cpg_nodes
    WHERE parent_kind IS NOT NULL
);

-------------------------------------------------------------------------------
-- TOKEN_OF edges: each token to the innermost (deepest) AST node whose span
-- contains it. span_contains is the join predicate; the equi-key on 256-byte
-- pages only narrows the candidates: every node is listed once per page it
-- touches, and a node that contains a token touches the page of the token's
-- first byte. (Without it the join is path-equality plus a filter over every
-- node x token pair of a file: about 7x slower on this sample.)
-------------------------------------------------------------------------------

CREATE TABLE node_pages AS
SELECT node_id, path, bstart, bend, kind, depth, len,
       unnest(range(bstart / 256, (bend + 255) / 256)) AS page
FROM cpg_nodes;

CREATE TABLE token_of_edges AS
SELECT
    stable_id('edge', token_id, node_id, 'TOKEN_OF') AS edge_id,
    token_id AS src,
    node_id AS dst,
    'TOKEN_OF' AS kind
FROM (
    SELECT
        t.token_id,
        n.node_id,
        ROW_NUMBER() OVER (
            PARTITION BY t.token_id
            ORDER BY n.depth DESC, n.len ASC, n.node_id
        ) AS rn
    FROM cpg_tokens t
    JOIN node_pages n
      ON n.path = t.path
     AND n.page = t.bstart / 256
     AND span_contains(n.bstart, n.bend, t.bstart, t.bend)
)
WHERE rn = 1;

CREATE VIEW cpg_edges AS
SELECT edge_id, src, dst, kind FROM ast_parent_edges
UNION ALL
SELECT edge_id, src, dst, kind FROM token_of_edges;

-- Which AST node kinds do tokens attach to? Names and literals attach to their
-- own Name/Constant node; operators and keywords to the enclosing construct.
SELECT t.kind AS token_kind, n.kind AS innermost_node, count(*) AS tokens
FROM token_of_edges e
JOIN cpg_tokens t ON t.token_id = e.src
JOIN cpg_nodes n ON n.node_id = e.dst
GROUP BY t.kind, n.kind
ORDER BY tokens DESC, token_kind, innermost_node
LIMIT 10;

-- The tokens of heapq.heappush with the node each belongs to.
SELECT t.bstart, t.bend, t.kind AS token_kind, t.text, n.kind AS node_kind,
       n.bstart AS node_bstart, n.bend AS node_bend
FROM token_of_edges e
JOIN cpg_tokens t ON t.token_id = e.src
JOIN cpg_nodes n ON n.node_id = e.dst
JOIN cpg_nodes f
  ON f.path = t.path AND f.kind = 'FunctionDef' AND f.name = 'heappush'
 AND span_contains(f.bstart, f.bend, t.bstart, t.bend)
WHERE t.path = 'heapq.py'
ORDER BY t.bstart
LIMIT 30;

-------------------------------------------------------------------------------
-- Qualified names of functions and classes. Methods are qualified by their
-- class (module.Class.method): the class is found through the parent span
-- columns. qname_normalize cleans each part (NFKC, whitespace, stray dots) and keeps
-- case, since Python names are case-sensitive (textwrap.TextWrapper); a third
-- argument true would case-fold them as well.
-------------------------------------------------------------------------------

CREATE TABLE definitions AS
SELECT
    d.node_id,
    d.path,
    d.kind,
    d.name,
    d.bstart,
    d.bend,
    qname_normalize(
        d.name,
        CASE WHEN c.name IS NULL THEN d.module ELSE d.module || '.' || c.name END
    ) AS qname
FROM cpg_nodes d
LEFT JOIN cpg_nodes c
  ON c.path = d.path
 AND c.bstart = d.parent_bstart
 AND c.bend = d.parent_bend
 AND c.kind = d.parent_kind
 AND c.kind = 'ClassDef'
WHERE d.kind IN ('FunctionDef', 'AsyncFunctionDef', 'ClassDef');

SELECT kind, count(*) AS definitions, count(DISTINCT qname) AS distinct_qnames
FROM definitions
GROUP BY kind
ORDER BY kind;

SELECT path, kind, name, qname
FROM definitions
WHERE path IN ('json/decoder.py', 'json/__init__.py')
ORDER BY path, bstart
LIMIT 10;

-- Qualified names given more than once: redefinitions, and nested functions, which
-- this demo qualifies by their module only.
SELECT qname, count(*) AS definitions
FROM definitions
GROUP BY qname
HAVING count(*) > 1
ORDER BY definitions DESC, qname
LIMIT 10;

-------------------------------------------------------------------------------
-- Identifier normalization: NAME tokens (identifiers and keywords) before and
-- after utf8_normalize (NFKC + full Unicode case folding + whitespace collapsing).
-------------------------------------------------------------------------------

SELECT
    count(*) AS name_tokens,
    count(DISTINCT text) AS distinct_raw,
    count(DISTINCT utf8_normalize(text)) AS distinct_normalized
FROM cpg_tokens
WHERE kind = 'NAME';

-- Identifiers that normalize together, e.g. a class and a variable of the same name.
SELECT
    utf8_normalize(text) AS normalized,
    count(DISTINCT text) AS spellings,
    array_sort(array_agg(DISTINCT text)) AS raw_forms,
    count(*) AS occurrences
FROM cpg_tokens
WHERE kind = 'NAME'
GROUP BY utf8_normalize(text)
HAVING count(DISTINCT text) > 1
ORDER BY occurrences DESC, normalized
LIMIT 10;

-- Byte spans are not character counts: tokens with non-ASCII text.
SELECT path, bstart, bend, span_len(bstart, bend) AS bytes,
       character_length(text) AS chars, kind,
       left(replace(text, chr(10), ' '), 32) AS text_start
FROM cpg_tokens
WHERE span_len(bstart, bend) <> character_length(text)
ORDER BY path, bstart
LIMIT 10;

-------------------------------------------------------------------------------
-- Argument lists, exploded with positions: list_enumerate pairs every element
-- with its 1-based ordinality; unnest turns the list into rows of structs.
-------------------------------------------------------------------------------

CREATE TABLE function_args AS
SELECT d.node_id, d.qname, array_agg(a.name ORDER BY a.bstart) AS args
FROM definitions d
JOIN cpg_nodes a
  ON a.path = d.path
 AND a.parent_bstart = d.bstart
 AND a.parent_bend = d.bend
 AND a.parent_kind = d.kind
 AND a.kind = 'arg'
WHERE d.kind IN ('FunctionDef', 'AsyncFunctionDef')
GROUP BY d.node_id, d.qname;

SELECT qname, args
FROM function_args
WHERE qname LIKE 'textwrap.TextWrapper.%'
ORDER BY qname
LIMIT 5;

SELECT qname, e['ordinality'] AS position, e['value'] AS arg
FROM (
    SELECT qname, unnest(list_enumerate(args)) AS e
    FROM function_args
    WHERE qname IN ('textwrap.wrap', 'textwrap.indent', 'json.dumps')
)
ORDER BY qname, position
LIMIT 30;

-- Which argument names sit at which position across all functions.
SELECT get_field(e, 'value') AS arg, get_field(e, 'ordinality') AS position,
       count(*) AS functions
FROM (SELECT unnest(list_enumerate(args)) AS e FROM function_args)
GROUP BY get_field(e, 'value'), get_field(e, 'ordinality')
ORDER BY functions DESC, arg, position
LIMIT 10;

-------------------------------------------------------------------------------
-- Checks. Each should show matching counts / zero.
-------------------------------------------------------------------------------

-- Ids are unique. span_hash is not: an expression statement and its call share
-- a span, which is why the node id includes the kind.
SELECT
    count(*) AS nodes,
    count(DISTINCT node_id) AS distinct_node_ids,
    count(DISTINCT span_hash) AS distinct_span_hashes,
    (SELECT count(*) FROM (SELECT DISTINCT path, bstart, bend FROM cpg_nodes)) AS distinct_spans
FROM cpg_nodes;

SELECT
    (SELECT count(*) FROM cpg_tokens) AS tokens,
    (SELECT count(DISTINCT token_id) FROM cpg_tokens) AS distinct_token_ids,
    (SELECT count(*) FROM cpg_edges) AS edges,
    (SELECT count(DISTINCT edge_id) FROM cpg_edges) AS distinct_edge_ids;

-- Every edge endpoint exists, every non-root node has one parent, every token
-- one TOKEN_OF edge.
SELECT
    (SELECT count(*) FROM ast_parent_edges e
      WHERE NOT EXISTS (SELECT 1 FROM cpg_nodes n WHERE n.node_id = e.dst)) AS dangling_parents,
    (SELECT count(*) FROM cpg_nodes WHERE parent_kind IS NOT NULL)
      - (SELECT count(*) FROM ast_parent_edges) AS nodes_without_parent_edge,
    (SELECT count(*) FROM cpg_tokens)
      - (SELECT count(DISTINCT src) FROM token_of_edges) AS tokens_without_node;

-- The extractor agrees with itself: a Name node covers exactly one NAME token
-- with the same text, except inside f-strings when the data comes from Python
-- < 3.12, which tokenizes an f-string as a single STRING token.
SELECT
    count(*) AS name_nodes,
    count(t.token_id) AS with_name_token_of_same_span,
    sum(CASE WHEN t.text = n.name THEN 1 ELSE 0 END) AS same_text,
    sum(CASE WHEN t.token_id IS NULL THEN 1 ELSE 0 END) AS without_name_token,
    sum(CASE WHEN t.token_id IS NULL AND s.node_id IS NOT NULL THEN 1 ELSE 0 END)
        AS of_which_inside_a_string_token
FROM cpg_nodes n
LEFT JOIN cpg_tokens t
  ON t.path = n.path AND t.bstart = n.bstart AND t.bend = n.bend AND t.kind = 'NAME'
LEFT JOIN (
    SELECT DISTINCT m.node_id
    FROM cpg_nodes m
    JOIN cpg_tokens st
      ON st.path = m.path AND st.kind = 'STRING'
     AND span_contains(st.bstart, st.bend, m.bstart, m.bend)
    WHERE m.kind = 'Name'
) s ON s.node_id = n.node_id
WHERE n.kind = 'Name';

-------------------------------------------------------------------------------
-- Summaries.
-------------------------------------------------------------------------------

SELECT kind, count(*) AS nodes, sum(len) AS bytes_covered, max(depth) AS max_depth
FROM cpg_nodes
GROUP BY kind
ORDER BY nodes DESC, kind
LIMIT 10;

SELECT kind, count(*) AS edges
FROM cpg_edges
GROUP BY kind
ORDER BY kind;

SELECT path, count(*) AS nodes, max(depth) AS max_depth, max(bend) AS file_bytes
FROM cpg_nodes
GROUP BY path
ORDER BY nodes DESC, path
LIMIT 10;

-- Sample ids: the same inputs give the same ids on every run and machine.
SELECT node_id, span_hash, kind, name, path, bstart, bend
FROM cpg_nodes
WHERE path = 'bisect.py' AND kind IN ('FunctionDef', 'Module')
ORDER BY bstart
LIMIT 5;

-- The edges at one function, by the kind of node or token at the other end: its
-- AST_PARENT edge out to the module, and the edges in from its children and from
-- the tokens that belong to it directly (def, its name, parentheses, ...).
SELECT
    e.kind,
    CASE WHEN e.src = f.node_id THEN 'out' ELSE 'in' END AS direction,
    coalesce(n.kind, t.kind) AS other_end,
    count(*) AS edges,
    min(e.edge_id) AS example_edge_id
FROM cpg_edges e
JOIN cpg_nodes f
  ON f.path = 'bisect.py' AND f.kind = 'FunctionDef' AND f.name = 'insort_right'
 AND (e.src = f.node_id OR e.dst = f.node_id)
LEFT JOIN cpg_nodes n ON n.node_id = CASE WHEN e.src = f.node_id THEN e.dst ELSE e.src END
LEFT JOIN cpg_tokens t ON t.token_id = e.src
GROUP BY 1, 2, 3
ORDER BY 1, 2 DESC, 3
LIMIT 10;
