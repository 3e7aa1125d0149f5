"""Drizzle queries: which tables a query chain reads or writes, and how it filters, joins and sorts.

Conditions are kept with their comparison kind, so the prefix rule of composite indexes can be
applied to them (`coverage.py`); `sql` fragments are kept apart, as not analysed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import ancestors, arguments, call_chain, member_parts, object_entries, short_text
from .drizzle import is_db_receiver

OPERATIONS = frozenset({"select", "selectDistinct", "insert", "update", "delete", "execute"})
"""Methods of a database handle that start a query."""
DB_METHODS = OPERATIONS | {"transaction", "with"}
"""A handle's own steps: `db.with(sq).select()` starts a query as `db.select()` does."""
RELATIONAL_METHODS = frozenset({"findMany", "findFirst"})
"""Methods of `db.query.<table>`."""
JOINS = {"innerJoin": "inner", "leftJoin": "left", "rightJoin": "right", "fullJoin": "full"}
BUILDER_METHODS = frozenset({"from", "where", "orderBy", *JOINS})
"""Steps that only a query builder has, so `db.x.from(...)` reads as a query too."""
_SHOWN = 40
"""Characters of a raw fragment shown."""
_FILTER_METHODS = frozenset({"where", "having"})
_TABLE_METHODS = frozenset({"from", "insert", "update", "delete", *JOINS})

ConditionKind = Literal["eq", "range", "other"]
EQUALITY = frozenset({"eq", "inArray", "isNull"})
"""Comparisons an index serves like an equality: the next column of the index still counts."""
RANGE = frozenset({"gt", "gte", "lt", "lte", "between", "like"})
"""Comparisons an ordered index serves as a range: columns after it in the index do not help."""
_OTHER = frozenset(
    {"ne", "notInArray", "isNotNull", "notBetween", "notLike", "ilike", "notIlike"}
    | {"arrayContains", "arrayContained", "arrayOverlaps"}
)
_LOGICAL = {"and": False, "or": True, "not": True}
"""Combinators, and whether a condition under them narrows the query on its own."""
_OBJECT_OPERATORS = {"in": "inArray", "notIn": "notInArray"}
_SORTS = frozenset({"asc", "desc"})
LOOPS = {
    "for_statement": "`for` loop",
    "for_in_statement": "`for…of` loop",
    "while_statement": "`while` loop",
    "do_statement": "`do…while` loop",
}
_CALLBACK_LOOPS = frozenset({"map", "forEach", "flatMap", "filter", "reduce", "some", "every"})
_BOUNDARIES = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition"}
)

Column = tuple[str, str]
"""(table variable, column)."""


@dataclass(frozen=True)
class Condition:
    table: str
    column: str
    kind: ConditionKind
    operator: str
    alone: bool = False
    """Under `or(...)` or `not(...)`: it does not narrow what the other conditions select."""


@dataclass
class Join:
    kind: str
    """inner, left, right, full; "where" for `eq(a.x, b.y)` in a filter."""
    table: str
    pairs: list[tuple[Column, Column]] = field(default_factory=list)


@dataclass
class Load:
    """A relation a relational query loads with it (`with: { comments: { where, orderBy } }`).

    Conditions and sort columns on the relation's own table have the table "" until the
    relation is resolved."""

    path: str
    parent: str
    relation: str
    conditions: list[Condition] = field(default_factory=list)
    order: list[Column] = field(default_factory=list)


@dataclass
class Query:
    operation: str
    tables: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    order: list[Column] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    """`sql` fragments and helpers whose columns are not analysed."""
    loads: list[Load] = field(default_factory=list)
    subqueries: list[str] = field(default_factory=list)
    """What a query reads that is not a table: `.from(sq.as("grouped"))` reads `grouped`."""
    bound: list[str] = field(default_factory=list)
    """Names of the query's function its conditions were kept in first (`whereClause`)."""
    written: list[str] = field(default_factory=list)
    """The columns an insert's `.values({...})` or an update's `.set({...})` writes."""

    @property
    def filters(self) -> list[Column]:
        return list(dict.fromkeys((c.table, c.column) for c in self.conditions))


def is_query_call(receiver: str, method: str) -> bool:
    """Whether `receiver.method(...)` is a step of a Drizzle query."""
    known = method in DB_METHODS or method in RELATIONAL_METHODS or method in BUILDER_METHODS
    return known and is_db_receiver(receiver)


def _is_raw(node: Node, src: SourceFile) -> bool:
    return node.type in ("call_expression", "binary_expression") and src.node_text(node).startswith(
        ("sql`", "sql<", "sql.", "sql(")
    )


@dataclass
class _Reader:
    """Reads conditions and sort keys; ``tables`` maps the names a column may hang off (tables,
    callback parameters) to the table they mean."""

    src: SourceFile
    tables: dict[str, str]
    own: str
    """The table the keys of an object filter (`where: { id: 1 }`) are columns of."""
    conditions: list[Condition] = field(default_factory=list)
    pairs: list[tuple[Column, Column]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    bound: dict[str, list[Node]] = field(default_factory=dict)
    """Conditions kept in a name first (`const where = and(...conditions)`, `conditions.push(…)`):
    what each name of the query's function holds."""
    read: list[str] = field(default_factory=list)
    """The names of ``bound`` the conditions were read through."""

    def column(self, node: Node | None) -> Column | None:
        if node is None or node.type != "member_expression":
            return None
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is None or prop is None:
            return None
        owner = self.src.node_text(obj).rsplit(".", 1)[-1]
        table = self.tables.get(owner)
        return (table, self.src.node_text(prop)) if table is not None else None

    def _callback(self, node: Node) -> Node | None:
        """A callback's body, with its first parameter standing for the own table."""
        params = node.child_by_field_name("parameters")
        first = params.named_children[0] if params is not None and params.named_children else None
        if first is not None:
            name = first.child_by_field_name("pattern") or first
            self.tables[self.src.node_text(name)] = self.own
        elif node.child_by_field_name("parameter") is not None:
            self.tables[self.src.node_text(node.child_by_field_name("parameter") or node)] = (
                self.own
            )
        return node.child_by_field_name("body")

    def condition(self, node: Node | None, alone: bool = False) -> None:
        src = self.src
        if node is None:
            return
        if node.type in _GROUPS:
            for child in node.named_children:
                self.condition(child, alone)
            return
        if node.type == "identifier":
            # Each name is read once: `conditions` may be pushed onto in a loop of its own.
            name = src.node_text(node)
            values = self.bound.pop(name, [])
            if values:
                self.read.append(name)
            for value in values:
                self.condition(value, alone)
            return
        if node.type == "arrow_function":
            self.condition(self._callback(node), alone)
            return
        if node.type == "object":
            self._object_filter(node, alone)
            return
        if _is_raw(node, src):
            self.raw.append(short_text(node, src, _SHOWN))
            return
        if node.type != "call_expression":
            return
        callee = node.child_by_field_name("function")
        name = src.node_text(callee).rsplit(".", 1)[-1] if callee is not None else ""
        args = arguments(node)
        if name in _LOGICAL:
            for arg in args:
                target = arg.named_children[0] if arg.type == "spread_element" else arg
                self.condition(target, alone or _LOGICAL[name])
            return
        left = self.column(args[0]) if args else None
        if left is None or name not in EQUALITY | RANGE | _OTHER:
            self.raw.append(short_text(node, src, _SHOWN))
            return
        right = self.column(args[1]) if len(args) > 1 else None
        kind: ConditionKind = "eq" if name in EQUALITY else "range" if name in RANGE else "other"
        if (
            name == "like"
            and len(args) > 1
            and src.node_text(args[1]).strip("\"'`").startswith("%")
        ):
            kind = "other"  # a leading wildcard: no B-tree serves it
        if right is not None and name == "eq":
            self.pairs.append((left, right))
            return
        self.conditions.append(Condition(*left, kind, name, alone))

    def _object_filter(self, node: Node, alone: bool) -> None:
        """Relational queries' object filters: `{ id: 1, createdAt: { gt: d }, OR: [...] }`."""
        for key, value in object_entries(node, self.src).items():
            if key in ("OR", "NOT", "AND"):
                items = value.named_children if value.type == "array" else [value]
                for item in items:
                    self.condition(item, alone or key != "AND")
            elif key == "RAW":
                self.raw.append(short_text(value, self.src, _SHOWN))
            elif value.type == "object":
                for op in object_entries(value, self.src):
                    name = _OBJECT_OPERATORS.get(op, op)
                    kind: ConditionKind = (
                        "eq" if name in EQUALITY else "range" if name in RANGE else "other"
                    )
                    self.conditions.append(Condition(self.own, key, kind, name, alone))
            else:
                self.conditions.append(Condition(self.own, key, "eq", "eq", alone))

    def order(self, node: Node | None) -> list[Column]:
        if node is None:
            return []
        if node.type == "arrow_function":
            return self.order(self._callback(node))
        if node.type == "object":  # `{ createdAt: "desc" }`
            return [(self.own, key) for key in object_entries(node, self.src)]
        if node.type == "ternary_expression":  # `asc ? asc(t.at) : desc(t.at)`: either way
            branches = (node.child_by_field_name(f) for f in ("consequence", "alternative"))
            return list(dict.fromkeys(c for b in branches for c in self.order(b)))
        if _is_raw(node, self.src):
            self.raw.append(short_text(node, self.src, _SHOWN))
            return []
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and self.src.node_text(callee).rsplit(".", 1)[-1] in _SORTS:
                return self.order(arguments(node)[0] if arguments(node) else None)
            return []
        found = self.column(node)
        if found is not None:
            return [found]
        out: list[Column] = []
        if node.type in ("array", "arguments", "parenthesized_expression"):
            for child in node.named_children:
                out += self.order(child)
        return out


def read_query(top: Node, src: SourceFile) -> Query | None:
    """The query the outermost call ``top`` of a chain makes, or None when it is not one."""
    links = call_chain(top, src)
    if not links or not is_db_receiver(links[0][0]):
        return None
    root = links[0][0]
    parts = root.split(".")
    if "query" in parts[1:-1]:
        return _relational(parts[parts.index("query", 1) + 1], links, src)
    query = Query("query")
    for name, args in links[1:]:
        first = _cast_away(arguments(args)[0]) if arguments(args) else None
        if name in OPERATIONS:
            query.operation = name
        if name in ("values", "set") and first is not None:
            query.written += [key for key in object_entries(first, src) if key not in query.written]
        if name in _TABLE_METHODS and first is not None and first.type in _NAMES:
            table = src.node_text(first).rsplit(".", 1)[-1]
            if table not in query.tables:
                query.tables.append(table)
        elif name in _TABLE_METHODS and first is not None:
            alias = _subquery_alias(first, src)
            if alias is not None and alias not in query.subqueries:
                query.subqueries.append(alias)
    reader = _Reader(src, {t: t for t in query.tables}, query.tables[0] if query.tables else "")
    reader.bound = bound_conditions(top, src)
    for name, args in links[1:]:
        if name in JOINS:
            joined = arguments(args)
            on = _Reader(src, reader.tables, reader.own)
            on.condition(joined[1] if len(joined) > 1 else None)
            alias = _subquery_alias(joined[0], src) if joined else None
            table = alias or (src.node_text(joined[0]).rsplit(".", 1)[-1] if joined else "?")
            query.joins.append(Join(JOINS[name], table, on.pairs))
            query.conditions += on.conditions
            query.raw += on.raw
        elif name in _FILTER_METHODS:
            for arg in arguments(args):
                reader.condition(arg)
        elif name == "orderBy":
            query.order += reader.order(args)
    query.conditions += reader.conditions
    query.raw += reader.raw
    query.bound = reader.read
    if reader.pairs:
        query.joins.append(Join("where", "", reader.pairs))
    return query


_NAMES = frozenset({"identifier", "member_expression"})


def _subquery_alias(node: Node, src: SourceFile) -> str | None:
    """The alias of `sq.as("alias")`, the form a subquery takes in `.from(...)` or a join."""
    parts = member_parts(node, src) if node.type == "call_expression" else None
    if parts is None or parts[1] != "as" or not arguments(node):
        return None
    alias = arguments(node)[0]
    return src.node_text(alias).strip("'\"`") if alias.type == "string" else None


_GROUPS = frozenset(
    {"parenthesized_expression", "statement_block", "return_statement", "array", "spread_element"}
)
_CASTS = frozenset({"as_expression", "satisfies_expression", "non_null_expression"})


def _cast_away(node: Node) -> Node:
    """`table as PgTable` and `table!` name the table `table`, as a generic repository writes it."""
    while node.type in _CASTS and node.named_children:
        node = node.named_children[0]
    return node


def _relational(table: str, links: list[tuple[str, Node | None]], src: SourceFile) -> Query:
    """`db.query.posts.findMany({ where, orderBy, with })`."""
    query = Query(links[1][0] if len(links) > 1 else "query", [table])
    for _, args in links[1:]:
        for arg in arguments(args):
            options = object_entries(arg, src)
            reader = _Reader(src, {table: table}, table)
            reader.condition(options.get("where"))
            query.order += reader.order(options.get("orderBy"))
            query.conditions += reader.conditions
            query.raw += reader.raw
            if reader.pairs:
                query.joins.append(Join("where", "", reader.pairs))
            _loads(options.get("with"), table, "", query, src)
    return query


def _loads(node: Node | None, parent: str, prefix: str, query: Query, src: SourceFile) -> None:
    for name, value in object_entries(node, src).items():
        load = Load(prefix + name, parent, name)
        query.loads.append(load)
        options = object_entries(value, src)
        if options:
            reader = _Reader(src, {name: ""}, "")
            reader.condition(options.get("where"))
            load.order = reader.order(options.get("orderBy"))
            load.conditions = reader.conditions
            query.raw += reader.raw
            _loads(options.get("with"), prefix + name, prefix + name + ".", query, src)


def bound_conditions(query: Node, src: SourceFile) -> dict[str, list[Node]]:
    """What each name declared in the query's function holds, for the conditions a query reads
    through a name: its value (`const conditions = [eq(...)]`) and what is pushed onto it
    (`conditions.push(eq(...))`, in a branch too)."""
    body: Node | None = None
    for current in ancestors(query):
        if current.type in _BOUNDARIES:
            body = current.child_by_field_name("body")
            break
        if current.type in ("statement_block", "program"):
            body = current
    if body is None:
        return {}
    # Every query of a long function asks about the same body: walk it once per parsed text.
    # A copy, as the reader takes each name once.
    key = ("bound conditions", body.start_byte, body.end_byte)
    return dict(src.remember(key, lambda: _bound_in(body, src)))


def _bound_in(body: Node, src: SourceFile) -> dict[str, list[Node]]:
    found: dict[str, list[Node]] = {}
    stack = [body]
    while stack:
        current = stack.pop()
        if current.type == "variable_declarator":
            name, value = current.child_by_field_name("name"), current.child_by_field_name("value")
            if name is not None and value is not None and name.type == "identifier":
                found.setdefault(src.node_text(name), []).append(value)
        elif current.type == "call_expression":
            parts = member_parts(current, src)
            if parts is not None and parts[1] in ("push", "unshift"):
                found.setdefault(parts[0], []).extend(arguments(current))
        if current.type not in _BOUNDARIES or current == body:
            stack.extend(reversed(current.named_children))  # in the order they are written
    return found


def filter_step(call: Node, src: SourceFile, table: str) -> Query | None:
    """A filter given to a query builder that is passed in (`(qb) => qb.where(eq(t.userId,
    id))`, a paginator's hook): the conditions on ``table``'s columns, or None when the step
    reads none. The builder itself is not a database handle, so `read_query` does not see it."""
    parts = member_parts(call, src) if call.type == "call_expression" else None
    if parts is None or parts[1] not in _FILTER_METHODS:
        return None
    reader = _Reader(src, {table: table}, table)
    reader.bound = bound_conditions(call, src)
    for arg in arguments(call):
        reader.condition(arg)
    conditions = [c for c in reader.conditions if c.table == table]
    if not conditions:
        return None
    return Query("query", [table], conditions, raw=reader.raw, bound=reader.read)


def loop_around(node: Node, src: SourceFile) -> str | None:
    """The loop a query runs once per iteration of (N+1), or None: a `for`, `for…of` or `while`
    body, or an async callback of `.map(...)`/`.forEach(...)`, within the query's function."""
    child = node
    for parent in ancestors(node):
        if parent.type in LOOPS and parent.child_by_field_name("body") == child:
            return LOOPS[parent.type]
        if parent.type in _BOUNDARIES:
            holder = parent.parent
            call = holder.parent if holder is not None and holder.type == "arguments" else None
            parts = member_parts(call, src) if call is not None else None
            is_async = src.node_text(parent).startswith("async")
            if parts is not None and parts[1] in _CALLBACK_LOOPS and is_async:
                return f"`.{parts[1]}(async …)` callback"
            return None
        child = parent
    return None
