"""Compliance validation: the SHACL shapes of `shapes/` (one file per concern, every rule of RULES.md)
checked against the stored forms, with reports kept beside the data.

How a form is checked
---------------------

* **Per form (SHACL Core).** Each form graph is validated on its own, with no inference, no ontology
  mixed in and SHACL-AF off. What SHACL Core cannot compute (execution rate, sums, rescoring a row, grade
  bands, which rows a rule applies to) is computed at ingest by `kg.rdf.derived` onto derived resources in
  the form graph (`kg:Reckoning`, `kg:FormProfile`, `kg:IndicatorProfile`, each `prov:wasGeneratedBy
  kg:IngestDerivation`); the shapes compare those with the printed values, which are never changed. Two
  engines give the same findings: `compiled` (`kg.validate.compiled`, the default on the embedded store)
  runs the Core shapes as a few dozen SPARQL queries over all form graphs at once, every pattern inside
  its form graph (`GRAPH ?g`); `pyshacl` (`kg.validate.engine`, the default on a remote store) reads each
  form graph out of the store and validates it with pySHACL in worker processes, the shapes parsed once
  per process.
* **Across forms (SHACL-SPARQL).** X-01 and X-02 compare a form with its predecessor in the same lineage
  (`?lineage a kg:Lineage ; kg:lineageMember ?form`, written into the default graph by `kg link`). Each such
  shape runs as one SPARQL query over the store, keeping the rows whose `?this` is one of its targets;
  pySHACL on a merged graph finds the same results (the benchmark `bench/validate.py` shows it).

`validate_store(store, selectors)` does both, stores the reports (`save=True`) and returns a
`ValidationRun`; `kg validate` and `kg ingest --validate` call it.

Stored reports (for SPARQL, e.g. the HTTP service)
---------------------------------------------------

Reports are derived graphs kept **out of the default graph** (`OxigraphStore.replace_derived(...,
in_default_graph=False)`), so read them with `GRAPH`:

* `https://w3id.org/jixiao-kg/id/graph/report/<file-stem>/<index>` — one per validated form (the same
  `<file-stem>/<index>` as its form graph `…/id/graph/<file-stem>/<index>`), replaced whenever that form is
  validated again; derived-graph name `report/<file-stem>/<index>`. A whole-store validation drops the
  reports of forms that are no longer loaded.
* `https://w3id.org/jixiao-kg/id/graph/report/across-forms` — the across-years findings (X-01, X-02) of
  the whole store, replaced on every validation; name `report/across-forms`.
* `https://w3id.org/jixiao-kg/id/graph/report/rules` — the rule catalogue: `…/id/rule/<id>` a
  `kg:ComplianceRule` with `dcterms:identifier "SE-05"`, `rdfs:label` (zh, en), `rdfs:comment` (zh) and
  `kg:ruleSeverity` (`sh:Violation`, `sh:Warning`, `sh:Info`: the severity RULES.md gives the rule).

Each report graph holds one `sh:ValidationReport` (`…/id/report/<file-stem>/<index>` or
`…/id/report/across-forms`) with `sh:conforms`, `prov:generatedAtTime` (xsd:dateTime, UTC),
`kg:validatedGraph` (the form graph; not on the across-forms report) and `sh:result` for each finding::

    <…/id/report/001_5d49eaeac9110deb/1/result/7> a sh:ValidationResult ;
        kg:ruleId "SE-12" ;                                   # the rule (RULES.md id)
        kg:rule <…/id/rule/SE-12> ;                           # … as a resource of the rules graph
        sh:resultSeverity sh:Warning ;                        # sh:Violation | sh:Warning | sh:Info
        kg:aboutForm <…/id/form/001_5d49eaeac9110deb/1> ;     # always: the printed form
        kg:aboutIndicator <…/id/form/001_5d49eaeac9110deb/1/indicator/1> ;   # when about one row
        kg:printedValue "0.00" ;                              # the offending value(s) as printed, if any
        sh:resultMessage "得分低于分值，…"@zh , "Points were deducted …"@en ;
        sh:focusNode <…/id/form/001_5d49eaeac9110deb/1/indicator/1/profile> ;
        sh:resultPath ( kg:profileOf kg:deviationReason ) ;   # when the shape has a path
        sh:value … ;                                          # when the result has a value
        sh:sourceShape <https://w3id.org/jixiao-kg/shapes#SE-12-neighbour> ;
        sh:sourceConstraintComponent sh:MinCountConstraintComponent .

The focus node is what the shape looked at: the form, a row, a citation, or a derived resource of one
(`<form>/reckoning/…`, `<form>/profile`, `<row>/profile`, `<row>/reckoning/…`); use `kg:aboutForm` and
`kg:aboutIndicator` to reach the printed form and row. Project, unit and year come from the form in the
default graph, e.g. findings by rule, unit and year::

    PREFIX sh: <http://www.w3.org/ns/shacl#>
    SELECT ?rule ?severity ?unit ?year (COUNT(*) AS ?findings) WHERE {
      GRAPH ?report { ?r a sh:ValidationResult ; kg:ruleId ?rule ; sh:resultSeverity ?severity ;
                                                 kg:aboutForm ?form }
      ?form kg:fiscalYear ?year . OPTIONAL { ?form kg:implementingUnitName ?unit }
    } GROUP BY ?rule ?severity ?unit ?year

and a project's findings: `?form kg:project ?project` with the same `GRAPH ?report { … kg:aboutForm ?form }`.

Outputs
-------

`kg validate --format json` prints a list of findings with exactly the keys rule, severity
(violation|warning|info), file, form_index, project, year, indicator (third-level name or null), message
(Chinese, with the figures that do not add up), value (the offending value(s) as printed, several joined
by " / ", or null), focus_node (IRI); `text` groups by form then rule; `ttl` is one standard
`sh:ValidationReport`; `html` is a self-contained page for reviewers.
"""

from kg.validate.catalog import Rule, ShapeCatalog, ShapeInfo, ShapesError, load_catalog, shapes_dir
from kg.validate.engine import FormOutcome, run_sparql_checks, validate_form_graph, validate_many
from kg.validate.findings import JSON_KEYS, Finding, FormContext, StaleGraphError, sort_findings
from kg.validate.run import EngineError, FormSelector, SelectionError, ValidationRun, validate_store

__all__ = [
    "JSON_KEYS",
    "EngineError",
    "Finding",
    "FormContext",
    "FormOutcome",
    "FormSelector",
    "Rule",
    "SelectionError",
    "ShapeCatalog",
    "ShapeInfo",
    "ShapesError",
    "StaleGraphError",
    "ValidationRun",
    "load_catalog",
    "run_sparql_checks",
    "shapes_dir",
    "sort_findings",
    "validate_form_graph",
    "validate_many",
    "validate_store",
]
