"""The HTTP service behind `kg serve`: a SPARQL 1.1 Protocol endpoint, the named queries and web pages.

Modules (data flows one way: the server reads the store, the named queries and the vocabulary; nothing
of the rest of `kg` depends on it):

* `settings`     `Settings` from the command line and the environment (KG_*);
* `app`          `create_app(settings)`: the FastAPI application, routes /sparql, /update, /queries, /docs;
* `protocol`     reading SPARQL 1.1 Protocol requests (methods, media types, UTF-8, parameters);
* `sparql_text`  what a query or update asks for before it runs: SERVICE, LOAD, FROM, USING;
* `negotiation`  the result format from Accept or `format=`;
* `results`      SELECT / ASK / CONSTRUCT results to bytes, with the row limit;
* `engine`       worker processes (readers on store checkpoints, one writer) with time limits;
* `worker`       what runs inside those processes (imported by the fork server: no web framework here);
* `pages`, `charts`, `templates/`, `static/`  the web UI;
* `description`  the SPARQL service description;
* `main`         `kg serve`: uvicorn.

The default graph of every query is the merge of all form graphs (see `kg.store.oxigraph`).
"""
