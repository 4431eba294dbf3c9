// The query page: YASGUI (from npm, served by this service) on this service's /sparql endpoint, with the
// named queries of queries/ as examples. Nothing is fetched from other hosts: the LOV class/property
// autocompleters (which call lov.linkeddata.es) are switched off and the endpoint list holds only ours.
(function () {
  "use strict";
  var examples = JSON.parse(document.getElementById("examples-data").textContent);
  var endpoint = window.location.origin + "/sparql";
  var Yasgui = window.Yasgui;
  Yasgui.Yasqe.defaults.autocompleters = (Yasgui.Yasqe.defaults.autocompleters || []).filter(function (name) {
    return name !== "class" && name !== "property";
  });
  Yasgui.Yasqe.defaults.prefixCcApi = undefined;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    yasqe: { value: examples.length ? examples[0].query : "SELECT * WHERE { ?s ?p ?o } LIMIT 10" },
  });
  window.kgYasgui = yasgui;
  // Results tables in "simple view": values without datatype markup (the checkbox above the table
  // switches back).
  function simpleView(tab) {
    var yasr = tab && tab.getYasr && tab.getYasr();
    if (yasr && yasr.config && yasr.config.plugins && yasr.config.plugins.table) {
      var table = yasr.config.plugins.table;
      if (!table.dynamicConfig || table.dynamicConfig.compact === undefined) {
        table.dynamicConfig = Object.assign({}, table.dynamicConfig, { compact: true, isEllipsed: false });
      }
    }
  }
  yasgui.on("query", function (instance, tab) { simpleView(tab); });
  var tab = yasgui.getTab();
  if (examples.length) {
    tab.setQuery(examples[0].query);
    tab.setName(examples[0].name);
  }
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      var example = examples[Number(button.dataset.index)];
      var current = yasgui.getTab();
      current.setQuery(example.query);
      current.setName(example.name);
      document.querySelectorAll("button.example").forEach(function (b) { b.classList.remove("active"); });
      button.classList.add("active");
    });
  });
})();
