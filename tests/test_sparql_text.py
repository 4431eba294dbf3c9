"""The query rewrites of the remote store (`kg.store.sparql_text`) and its reading of endpoint answers
(`kg.store.remote`), without a server: each rewrite is checked by running the rewritten query on an
in-memory Oxigraph store beside the original."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest

from kg.store import sparql_text as st
from kg.store.remote import RemoteConfig, _load_results, _normal_binding

XSD = "http://www.w3.org/2001/XMLSchema#"
DATA = """
<http://e/a> <http://e/p> "x" <http://e/g1> .
<http://e/a> <http://e/p> "y"@zh <http://e/g2> .
<http://e/b> <http://e/p> "10"^^<http://www.w3.org/2001/XMLSchema#integer> <http://e/g2> .
<http://e/c> <http://e/p> "9"^^<http://www.w3.org/2001/XMLSchema#integer> <http://e/g1> .
<http://e/a> <http://e/p> "x" .
<http://e/b> <http://e/p> "10"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://e/c> <http://e/p> "9"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://e/d> <http://e/q> "long string number one" .
<http://e/e> <http://e/q> "long string number two" .
"""


@pytest.fixture(scope="module")
def memory() -> ox.Store:
    store = ox.Store()
    store.load(DATA.encode(), ox.RdfFormat.N_QUADS)
    return store


def rows(store: ox.Store, text: str) -> list[tuple[str | None, ...]]:
    result = store.query(text)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [tuple(str(s[n]) if s[n] is not None else None for n in names) for s in result]


def test_analyse_finds_the_parts_of_a_query() -> None:
    text = (
        "# comment with { and SELECT\nPREFIX e: <http://e/>\nSELECT ?s (COUNT(*) AS ?n) FROM <http://e/g1> "
        'FROM NAMED <http://e/g2> WHERE { ?s e:p "}" FILTER (?s != <http://e/x>) } GROUP BY ?s '
        "ORDER BY DESC(?n) ?s LIMIT 5 OFFSET 1 VALUES ?s { e:a }"
    )
    query = st.analyse(text)
    assert query.form == "SELECT" and query.prefixes == {"e"}
    assert [query.part(span) for span in query.dataset] == ["FROM <http://e/g1>", "FROM NAMED <http://e/g2>"]
    assert query.part(query.where) == '{ ?s e:p "}" FILTER (?s != <http://e/x>) }'
    assert query.part(query.order_by) == "ORDER BY DESC(?n) ?s"
    assert query.part(query.values) == "VALUES ?s { e:a }"
    assert st.order_conditions(query) == [("DESC", "?n"), ("ASC", "?s")]
    construct = st.analyse("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert construct.part(construct.template) == "{ ?s ?p ?o }"
    assert st.is_update("PREFIX e: <http://e/> DELETE WHERE { ?s ?p ?o }")
    assert not st.is_update("define input:x <http://e/> SELECT * { ?s ?p ?o }")
    with pytest.raises(st.SparqlTextError):
        st.analyse("SELECT * WHERE { ?s ?p ?o ")
    with pytest.raises(st.SparqlTextError):
        st.analyse("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")


def test_missing_prefixes_are_declared_and_own_declarations_win() -> None:
    prefixes = {"kg": "http://kg#", "xsd": XSD}
    assert st.with_prefixes("SELECT * { ?s kg:p ?o }", prefixes).startswith("PREFIX kg: <http://kg#>\n")
    own = "PREFIX kg: <http://other#> SELECT * { ?s kg:p ?o }"
    assert st.with_prefixes(own, prefixes) == own
    with_define = st.with_prefixes("define input:x <http://e/> SELECT * { ?s kg:p ?o }", prefixes)
    assert with_define.startswith("define input:x <http://e/>\nPREFIX kg:")


@pytest.mark.parametrize(
    "value",
    ['a"b\\c\n\r\t}{ <x>', '" } } ; DROP ALL ; SELECT * WHERE { ?s ?p "', "\\u0022 \\\\u0022", "中文 ‘引号’"],
)
def test_bound_values_are_terms_whatever_they_contain(memory: ox.Store, value: str) -> None:
    query = st.analyse("SELECT ?x ?s WHERE { OPTIONAL { ?s <http://e/p> ?x } }")
    text = st.with_bindings(query, {"x": ox.Literal(value)})
    assert rows(memory, text) == [(str(ox.Literal(value)), None)]
    assert st.sparql_term(ox.Literal("x", language="zh")) == '"x"@zh'
    assert st.sparql_term(ox.Literal("1", datatype=ox.NamedNode(XSD + "integer"))) == f'"1"^^<{XSD}integer>'


def test_bindings_reach_filters_as_a_substitution_does(memory: ox.Store) -> None:
    text = "SELECT ?s ?limit WHERE { ?s <http://e/p> ?v FILTER (?v > COALESCE(?limit, 0)) }"
    bound = st.with_bindings(
        st.analyse(text), {"limit": ox.Literal("9", datatype=ox.NamedNode(XSD + "integer"))}
    )
    substituted = memory.query(text, substitutions={ox.Variable("limit"): ox.Literal(9)})
    assert Counter(rows(memory, bound)) == Counter(
        tuple(str(s[n]) for n in ("s", "limit"))
        for s in substituted  # type: ignore[union-attr]
    )


def test_pages_cover_the_answer_once_in_the_query_order(memory: ox.Store) -> None:
    for text in (
        "SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o } ORDER BY DESC(?s)",
        "SELECT ?s (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s ORDER BY DESC(?n) ?s",
        "SELECT * FROM <http://e/g1> WHERE { ?s ?p ?o } ORDER BY STR(?o)",
    ):
        query = st.analyse(text)
        expected = rows(memory, text)
        variables = [v.value for v in memory.query(text).variables]  # type: ignore[union-attr]
        pages: list[tuple[str | None, ...]] = []
        for offset in range(0, len(expected) + 2, 2):
            pages += rows(memory, st.paged(query, variables, offset, 2))
        if query.order_by is not None:
            assert pages == expected, text
        else:
            assert Counter(pages) == Counter(expected), text


def test_graph_filters_keep_the_merge_graph_out_and_constant_graphs_reachable(memory: ox.Store) -> None:
    text = "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } OPTIONAL { GRAPH <http://e/g1> { ?s ?p ?x } } }"
    rewritten, hidden = st.with_graph_filters(text, "http://e/g2")
    assert hidden == ["kg_graph_1"]
    got = rows(memory, rewritten)
    assert all(row[0] != "<http://e/g2>" for row in got) and got
    assert Counter(got) == Counter(row for row in rows(memory, text) if row[0] != "<http://e/g2>")


def test_text_order_compares_strings_whole_and_numbers_by_value(memory: ox.Store) -> None:
    text = 'SELECT ?o WHERE { ?s ?p ?o FILTER (isLiteral(?o) && ?o != "y"@zh) } ORDER BY ?o'
    rewritten = st.with_text_order(st.analyse(text))
    assert "STR(?o)" in rewritten
    assert rows(memory, rewritten) == rows(memory, text)


def test_construct_becomes_a_select_and_a_template() -> None:
    select, template = st.construct_as_select(
        st.analyse(
            "PREFIX e: <http://e/> CONSTRUCT { ?s e:q ?o } FROM <http://e/g1> WHERE { ?s ?p ?o } LIMIT 3"
        )
    )
    assert select.startswith("PREFIX e: <http://e/> SELECT * FROM <http://e/g1> WHERE { ?s ?p ?o }")
    assert "LIMIT 3" in select and template == "{ ?s e:q ?o }"


def test_virtuoso_answers_are_read_as_oxigraph_terms() -> None:
    xml = (
        b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="a"/>'
        b'<variable name="b"/></head><results><result><binding name="a"><bnode>nodeID://b10006</bnode>'
        b'</binding><binding name="b"><literal datatype="http://www.w3.org/2001/XMLSchema#boolean">1'
        b"</literal></binding></result></results></sparql>"
    )
    document = _load_results(xml)
    assert document["head"]["vars"] == ["a", "b"]
    row = document["results"]["bindings"][0]
    assert _normal_binding(row["a"]) == {"type": "bnode", "value": "b10006"}
    assert _normal_binding(row["b"])["value"] == "true"
    decimal = {"type": "typed-literal", "datatype": XSD + "decimal", "value": "40.00"}
    assert _normal_binding(decimal) == {"type": "literal", "datatype": XSD + "decimal", "value": "40"}
    zh = {"type": "literal", "xml:lang": "zh-Hans", "value": "中"}
    assert _normal_binding(zh)["xml:lang"] == "zh-hans"


def test_store_addresses() -> None:
    env = {"KG_REMOTE_PASSWORD": "pw", "KG_VIRTUOSO_LOAD_DIR": "/srv/load"}
    config = RemoteConfig.from_spec("virtuoso://127.0.0.1:1112?http=8891", env)
    assert (config.isql_host, config.isql_port, config.user) == ("127.0.0.1", 1112, "dba")
    assert config.query_url == "http://127.0.0.1:8891/sparql"
    assert config.update_url == "http://127.0.0.1:8891/sparql-auth"
    assert config.bulk_capable and str(config.load_dir) == "/srv/load" and config.password == "pw"
    assert "pw" not in repr(config)
    generic = RemoteConfig.from_spec(
        "https://example.org/ds/sparql",
        {"KG_REMOTE_DIALECT": "generic", "KG_REMOTE_UPDATE_URL": "https://example.org/ds/update"},
    )
    assert generic.merge_graph is None and generic.update_url == "https://example.org/ds/update"
    assert not generic.bulk_capable
