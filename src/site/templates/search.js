// Package search over search.json ([name, latest version, description] rows, by name):
// names starting with the query first, then names containing it. Loaded once, on first use.
"use strict";
(function () {
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var rows = null;
  function show(query) {
    var q = query.trim().toLowerCase();
    list.textContent = "";
    if (!q) { status.textContent = ""; return; }
    var starts = [], contains = [];
    for (var i = 0; i < rows.length && starts.length < 50; i++) {
      var at = rows[i][0].indexOf(q);
      if (at === 0) starts.push(rows[i]); else if (at > 0 && contains.length < 50) contains.push(rows[i]);
    }
    var found = starts.concat(contains).slice(0, 50);
    status.textContent = found.length ? found.length + (found.length === 50 ? "+" : "") + " found" : "No package matches.";
    found.forEach(function (row) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "packages/" + row[0] + ".html";
      a.textContent = row[0];
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + row[1] + (row[2] ? " \u2014 " + row[2] : "")));
      list.appendChild(li);
    });
  }
  function load(then) {
    if (rows) { then(); return; }
    fetch("search.json").then(function (r) { return r.json(); })
      .then(function (data) { rows = data; then(); })
      .catch(function () { status.textContent = "The search index could not be loaded."; });
  }
  input.addEventListener("input", function () { load(function () { show(input.value); }); });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { input.value = q; load(function () { show(q); }); }
})();
