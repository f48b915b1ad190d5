// GraphiQL for Raccordo, served by the hub itself. The token typed above is sent as
// `Authorization: Bearer …` and kept in this tab only (sessionStorage), never in a cookie.
(function () {
  "use strict";
  var field = document.getElementById("token");
  field.value = sessionStorage.getItem("raccordo-token") || "";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  function fetcher(params) {
    var headers = { "content-type": "application/json", accept: "application/json" };
    var token = field.value.trim();
    if (token) headers.authorization = "Bearer " + token;
    return fetch("/graphql", {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
    }).then(function (r) {
      return r.json();
    });
  }
  var generation = 0;
  function render() {
    // A new key remounts GraphiQL, so the schema is read again with the new token.
    generation += 1;
    root.render(
      React.createElement(GraphiQL, {
        key: generation,
        fetcher: fetcher,
        defaultQuery: "# Scrivere qui una query, ad esempio:\n{\n  me {\n    userId\n    role\n    agency { name }\n  }\n}\n",
      })
    );
  }
  field.addEventListener("change", function () {
    sessionStorage.setItem("raccordo-token", field.value.trim());
    render();
  });
  render();
})();
