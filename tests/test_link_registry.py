"""The unit and legal-basis registries on hand-made input, the lookup keys and named-query parameter hooks,
the lineage ontology module, and HermiT on the seeds with everything `kg link` adds."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.ingest import ingest_paths
from kg.link import link_store
from kg.link.records import FormRecord, NarrativeRecord
from kg.link.registry import build_registry, registry_graph, split_basis_text
from kg.link.units import UnitRegistry, unit_key, units_graph
from kg.rdf.keys import doc_key, name_key, title_key
from kg.rdf.mapping import organization_iri
from kg.rdf.named_queries import QueryParam, load_named_queries, parse_named_query, to_term
from kg.rdf.namespaces import KG, ORG, SKOS
from kg.rdf.ontology import load_ontology
from kg.store import OxigraphStore

REPO = Path(__file__).resolve().parents[1]
BASIS_2020 = (  # 立项依据 of data/000_bb01accd19b494dd.txt form 0, line 10, as printed
    "上海市城市管理行政执法条例上海市城市管理行政执法局"
    "《关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知》（沪城管执[2017]58号）"
    "关于表彰全市城管执法系统第六届“文明规范执法标兵”和第七届“优秀中队长”的决定》（沪城管执[2017]89号）"
    "关于评选上海市城市管理执法精细化工作先进集体和先进个人的通知》（沪城管执〔2018〕83号）"
    "关于表彰上海市城市管理执法精细化工作先进集体、先进个人的决定》（沪城管执〔2018〕129号）"
    "中共中央 国务院关于深入推进城市执法体制改革改进城市管理工作的指导意见"
    "关于加强本市城管执法精细化三年行动计划（2018-2020）"
)


# ----------------------------------------------------------------------------- keys and query hooks


def test_keys() -> None:
    assert (
        name_key("“城管进社区” 宣传活动数量")
        == name_key("“城管进社区”宣传活动数量")
        == "城管进社区宣传活动数量"
    )
    assert title_key("《法治政府建设实施纲要（2015 - 2020年）》") == "法治政府建设实施纲要(2015-2020年)"
    assert title_key("法治政府建设实施纲要[2015-2020年]。") == "法治政府建设实施纲要(2015-2020年)"
    for spelling in (
        "沪城管执[2018]83号",
        "沪城管执〔2018〕83号",
        "(沪城管执（2018）第083号)",
        "沪城管执【2018】83号",
    ):
        assert doc_key(spelling) == "沪城管执〔2018〕83号"
    assert doc_key("《上海市城市管理行政执法条例》") == "上海市城市管理行政执法条例"


def test_parameter_hooks_and_output_columns(tmp_path: Path) -> None:
    doc = QueryParam("doc", "doc-ref", "沪城管执[2018]83号")
    assert to_term(doc, "沪城管执[2018]83号") == ox.Literal("沪城管执〔2018〕83号")
    assert to_term(QueryParam("p", "name-key", "x"), " 课题 研究 ") == ox.Literal("课题研究")
    with pytest.raises(ValueError, match="empty once normalised"):
        to_term(QueryParam("p", "name-key", "x"), "  ")
    text = "# name: q\n# param: doc doc-ref 沪城管执[2018]83号\n# columns: a ?b\n#\nSELECT ?a ?b ?doc {}\n"
    query = parse_named_query(text, tmp_path / "q.rq")
    assert query.columns == ("a", "b")
    assert query.output_columns(["a", "b", "doc"]) == ["a", "b"]
    assert parse_named_query("# name: r\nSELECT ?x {}", tmp_path / "r.rq").output_columns(["x"]) == ["x"]
    with pytest.raises(ValueError, match="second `columns:` line"):
        parse_named_query("# name: q\n# columns: a\n# columns: b\nSELECT ?a {}", tmp_path / "q.rq")
    with pytest.raises(ValueError, match=r"<string\|integer\|decimal\|iri\|name-key\|doc-ref>"):
        parse_named_query("# name: q\n# param: a date 2020\nSELECT ?a {}", tmp_path / "q.rq")


CROSS_YEAR = {
    "lineages": ["lineage", "year", "project", "unit", "confidence"],
    "budget-series": ["lineage", "year", "form_type", "kind", "amount_yuan", "reported_by_year"],
    "indicator-history": ["lineage", "l3", "year", "form_type", "target", "actual", "weight", "score"],
    "projects-by-legal-basis": [
        "doc_number",
        "title",
        "project",
        "year",
        "citation_raw",
        "later_year",
        "later_project",
    ],
    "execution-rate": ["project", "year", "full_year_budget", "executed", "rate"],
    "missed-targets": ["project", "l3", "target", "actual", "weight", "score", "deviation_reason"],
    "unit-totals": ["unit", "year", "form_type", "kind", "amount_yuan"],
}


def test_cross_year_queries_declare_their_columns_and_every_parameter_is_projected() -> None:
    queries = load_named_queries()
    for name, columns in CROSS_YEAR.items():
        query = queries[name]
        assert list(query.columns) == columns, name
        assert query.description and "Example:" in query.text
        projection = query.text.split("SELECT", 1)[1].split("WHERE", 1)[0]
        for param in query.params:
            assert f"?{param.name}" in projection, (name, param.name)
    assert {p.name: p.type for p in queries["projects-by-legal-basis"].params} == {"doc": "doc-ref"}
    assert {p.name: p.type for p in queries["budget-series"].params} == {"project": "name-key"}
    assert {p.name: p.type for p in queries["execution-rate"].params} == {
        "year": "integer",
        "below": "decimal",
    }


# ----------------------------------------------------------------------------- units


def test_unit_keys_merge_the_ways_a_unit_is_written() -> None:
    assert unit_key("朝阳城管执法局") == unit_key("朝阳区城管执法局") == "朝阳城管执法局"
    assert unit_key("上海市城市管理行政执法局") == unit_key("上海市城管执法局") == "上海城管执法局"
    assert unit_key("上海市住房和城乡建设管理委员会") == "上海住建委"
    assert unit_key("北京市朝阳区城管执法局") == "北京朝阳城管执法局"
    assert unit_key("市场监督管理局") == "市场监督管理局"  # no place name in front: nothing dropped
    assert unit_key("朝阳区城管执法局") != unit_key("海淀区城管执法局")


def test_units_graph_has_one_organization_per_unit_with_aliases() -> None:
    forms = [
        FormRecord(
            "https://example.org/f/0",
            "self_evaluation",
            2020,
            "a",
            supervising_department="朝阳城管执法局",
            implementing_unit="朝阳城管执法局",
        ),
        FormRecord(
            "https://example.org/f/1",
            "self_evaluation",
            2020,
            "b",
            supervising_department="朝阳区城管执法局",
            implementing_unit="朝阳区城管执法局",
        ),
        FormRecord(
            "https://example.org/f/2",
            "self_evaluation",
            2024,
            "c",
            supervising_department="上海市住房和城乡建设管理委员会",
            implementing_unit="上海市城管执法局",
        ),
        FormRecord(
            "https://example.org/f/3", "target_table", 2020, "d", reporting_unit="上海市城市管理行政执法局"
        ),
    ]
    registry = UnitRegistry.build(forms)
    assert [(u.name, u.aliases) for u in registry.sorted_units()] == [
        ("上海市住房和城乡建设管理委员会", []),
        ("上海市城市管理行政执法局", ["上海市城管执法局"]),  # the longest name is the canonical one
        ("朝阳区城管执法局", ["朝阳城管执法局"]),
    ]
    graph = units_graph(registry, forms)
    bureau, commission = (
        organization_iri("上海市城市管理行政执法局"),
        organization_iri("上海市住房和城乡建设管理委员会"),
    )
    assert (organization_iri("上海市城管执法局"), KG.canonicalOrganization, bureau) in graph
    assert (bureau, KG.canonicalOrganization, bureau) in graph
    assert (bureau, SKOS.altLabel, Literal("上海市城管执法局", lang="zh")) in graph
    assert (bureau, ORG.subOrganizationOf, commission) in graph  # from the alias on form 2, to the canonical
    assert (URIRef("https://example.org/f/3"), KG.responsibleUnit, bureau) in graph
    assert len(set(graph.subjects(RDF.type, KG.RegisteredUnit))) == 3
    # the Chaoyang unit supervises itself on its forms: no org:subOrganizationOf loop
    assert not any(s == o for s, o in graph.subject_objects(ORG.subOrganizationOf))


# ----------------------------------------------------------------------------- legal-basis registry


def test_the_run_on_2020_basis_text_is_split_into_its_seven_citations() -> None:
    citations = split_basis_text(BASIS_2020, 10)
    assert [(c.title, c.doc_number) for c in citations] == [
        ("上海市城市管理行政执法条例", None),
        ("关于开展第六届“文明规范执法标兵”、第七届“优秀中队长”评选活动的通知", "沪城管执〔2017〕58号"),
        (
            "关于表彰全市城管执法系统第六届“文明规范执法标兵”和第七届“优秀中队长”的决定",
            "沪城管执〔2017〕89号",
        ),
        ("关于评选上海市城市管理执法精细化工作先进集体和先进个人的通知", "沪城管执〔2018〕83号"),
        ("关于表彰上海市城市管理执法精细化工作先进集体、先进个人的决定", "沪城管执〔2018〕129号"),
        ("中共中央 国务院关于深入推进城市执法体制改革改进城市管理工作的指导意见", None),
        ("关于加强本市城管执法精细化三年行动计划（2018-2020）", None),
    ]
    assert all(c.line == 10 and c.source_field == "立项依据" for c in citations)
    # connectives and separators; an issuer printed alone is no document; a title that goes on is not cut
    assert [
        c.title
        for c in split_basis_text(
            "根据《上海市市容环境卫生管理条例》、上海市城市规划条例实施细则；上海市人民政府", 1
        )
    ] == [
        "上海市市容环境卫生管理条例",
        "上海市城市规划条例实施细则",
    ]


def narrative(form: str, label: str, value: str, line: int = 1) -> NarrativeRecord:
    return NarrativeRecord(f"{form}/narrative/{label}", label, value, line)


def test_registry_merges_spellings_and_keeps_one_citation_per_form_and_document() -> None:
    a, b = "https://example.org/form/a", "https://example.org/form/b"
    forms = [
        FormRecord(
            a,
            "target_table",
            2020,
            "A",
            narratives=[
                narrative(
                    a, "立项依据", "《上海市城市管理行政执法条例》；《关于X的通知》（沪城管执[2018]83号）", 5
                ),
                narrative(a, "项目设立的必要性", "依据《上海市城市管理行政执法条例》开展", 6),
            ],
        ),
        FormRecord(
            b,
            "target_declaration",
            2023,
            "B",
            narratives=[
                narrative(
                    b, "项目总目标 (2023年-2023年)", "按照《关于X的通知》和（沪城管执〔2018〕83号）要求"
                ),
                narrative(b, "实际完成情况", "完成《上海市非机动车安全管理条例》普法宣传"),
                narrative(b, "年度总体目标", "编印《上海城管执法》期刊，落实《关于X的通知》"),
            ],
        ),
    ]
    documents = build_registry(forms)
    assert [(d.doc_number, d.preferred_title, d.kind, len(d.citations)) for d in documents] == [
        ("沪城管执〔2018〕83号", "关于X的通知", "通知", 2),
        (None, "上海市城市管理行政执法条例", "条例", 1),
    ]
    numbered, regulation = documents
    assert [(c.form.title, c.narrative.label) for c in regulation.citations] == [("A", "立项依据")]
    assert numbered.lookup_keys == {"沪城管执〔2018〕83号", "关于x的通知"}
    graph = registry_graph(documents)
    assert (numbered.iri, KG.documentIssuerCode, Literal("沪城管执")) in graph
    assert (numbered.iri, KG.documentYear, Literal(2018)) in graph
    assert (numbered.iri, KG.documentSequence, Literal(83)) in graph
    assert len(set(graph.subjects(RDF.type, KG.BasisCitation))) == 3
    assert set(graph.objects(URIRef(b), KG.hasBasisCitation)) == {URIRef(f"{b}/basis/0")}


# ----------------------------------------------------------------------------- ontology and HermiT


def test_lineage_module_declares_the_contract_terms() -> None:
    module = Graph().parse(REPO / "ontology" / "kg-lineage.ttl")
    assert (KG.Lineage, RDF.type, OWL.Class) in module
    assert (KG.lineageMember, RDFS.domain, KG.Lineage) in module
    assert (KG.lineageMember, RDFS.range, KG.PerformanceForm) in module
    assert not list(module.subjects(RDF.type, OWL.Ontology))  # a module of the one ontology
    merged = load_ontology()
    assert (KG.lineageMember, RDF.type, OWL.ObjectProperty) in merged


def test_seeds_with_lineages_and_registries_are_consistent_under_hermit(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("java not found on PATH: owlready2 needs it to run HermiT")
    with OxigraphStore.in_memory() as store:
        ingest_paths([REPO / "data"], store)
        link_store(store)
        graph = load_ontology()
        graph.parse(data=store.export("ttl"), format="turtle")
    path = tmp_path / "seeds.owl"
    graph.serialize(path, format="xml")
    owlready2.reasoning.JAVA_MEMORY = 1024
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner(world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True)
