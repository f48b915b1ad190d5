// The network map (issue 15): agencies at their public office, collaborations as lines, reti and
// protocols as groups, filters and an agency card. It asks the hub's GraphQL API for what the
// caller may see (ACCESS.md §8): without a token the public directory only; with a partner's
// token the network graph and the shelters counted per province. Everything it loads comes from
// the hub itself: no tile server, no CDN.
(function () {
  "use strict";

  var KIND_COLOURS = {
    ENTE_ANTITRATTA: "#c0392b",
    CENTRO_ANTIVIOLENZA: "#8e44ad",
    PREFETTURA: "#2c3e50",
    QUESTURA: "#1f618d",
    COMMISSIONE_TERRITORIALE: "#117a65",
    FORZE_ORDINE: "#2e4053",
    PROCURA: "#5b2c6f",
    SERVIZI_TERRITORIALI: "#d68910",
    NUMERO_VERDE: "#e67e22",
    COORDINAMENTO: "#28b463",
  };
  var KIND_LABELS = {
    ENTE_ANTITRATTA: "Ente antitratta",
    CENTRO_ANTIVIOLENZA: "Centro antiviolenza",
    PREFETTURA: "Prefettura",
    QUESTURA: "Questura",
    COMMISSIONE_TERRITORIALE: "Commissione territoriale",
    FORZE_ORDINE: "Forze dell'ordine",
    PROCURA: "Procura",
    SERVIZI_TERRITORIALI: "Servizi territoriali",
    NUMERO_VERDE: "Numero Verde",
    COORDINAMENTO: "Coordinamento",
  };

  var PUBLIC_QUERY =
    "{ directory { id name kind province city latitude longitude publicContact website } }";
  var PARTNER_QUERY =
    "{ me { userId role agency { name } } " +
    "networkGraph { nodes { id name kind province city latitude longitude degree " +
    "agency { publicContact website referralContact } } " +
    "edges { id from to kind since } clusters { id kind name province lead members } } " +
    "shelterCounts { keys count suppressed } }";

  var $ = function (id) {
    return document.getElementById(id);
  };
  var state = { nodes: [], edges: [], clusters: [], byId: {}, partner: false };
  var map = L.map("map", { zoomSnap: 0.25, preferCanvas: false, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet");
  map.fitBounds([
    [36.5, 6.6],
    [47.1, 18.6],
  ]);
  var edgeLayer = L.layerGroup().addTo(map);
  var nodeLayer = L.layerGroup().addTo(map);

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function gql(query) {
    var headers = { "content-type": "application/json", accept: "application/json" };
    var token = $("token").value.trim();
    if (token) headers.authorization = "Bearer " + token;
    return fetch("/graphql", {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ query: query }),
    })
      .then(function (r) {
        return r.json();
      })
      .then(function (answer) {
        if (answer.errors && answer.errors.length) {
          throw new Error(answer.errors[0].message);
        }
        return answer.data;
      });
  }

  function load() {
    var partner = $("token").value.trim() !== "";
    sessionStorage.setItem("raccordo-token", $("token").value.trim());
    $("who").textContent = "Caricamento…";
    return gql(partner ? PARTNER_QUERY : PUBLIC_QUERY)
      .then(function (data) {
        state.partner = partner;
        if (partner) {
          state.nodes = data.networkGraph.nodes.map(function (n) {
            var a = n.agency || {};
            return Object.assign({}, n, {
              publicContact: a.publicContact,
              website: a.website,
              referralContact: a.referralContact,
            });
          });
          state.edges = data.networkGraph.edges;
          state.clusters = data.networkGraph.clusters;
          var me = data.me || {};
          $("who").textContent =
            "Vista di " + ((me.agency && me.agency.name) || me.userId || "partner") + " (" + me.role + ")";
          showShelters(data.shelterCounts || []);
        } else {
          state.nodes = data.directory;
          state.edges = [];
          state.clusters = [];
          $("who").textContent =
            "Vista pubblica: l'elenco dei soggetti. Collaborazioni, reti e protocolli sono visibili ai partner con un token.";
          $("shelters").textContent = "";
        }
        state.byId = {};
        state.nodes.forEach(function (n) {
          state.byId[n.id] = n;
        });
        fillFilters();
        refit();
      })
      .catch(function (e) {
        $("who").textContent = "La richiesta non è riuscita: " + e.message;
      });
  }

  function showShelters(cells) {
    var rows = cells
      .map(function (c) {
        return "<li>" + text(c.keys.join(" ")) + ": " + (c.suppressed ? "meno di k" : text(c.count)) + "</li>";
      })
      .join("");
    $("shelters").innerHTML =
      "<h3>Case rifugio per provincia</h3><p>Solo i conteggi: gli indirizzi restano all'ente che le gestisce.</p><ul>" +
      rows +
      "</ul>";
  }

  function options(select, values, label) {
    var current = select.value;
    select.innerHTML = '<option value="">' + text(select.options[0].textContent) + "</option>";
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = v.value;
      o.textContent = label ? label(v) : v.text;
      select.appendChild(o);
    });
    select.value = current;
  }

  function unique(list) {
    return list.filter(function (v, i) {
      return v && list.indexOf(v) === i;
    }).sort();
  }

  function fillFilters() {
    options(
      $("f-province"),
      unique(state.nodes.map(function (n) { return n.province; })).map(function (p) {
        return { value: p, text: p };
      })
    );
    options(
      $("f-kind"),
      unique(state.nodes.map(function (n) { return n.kind; })).map(function (k) {
        return { value: k, text: KIND_LABELS[k] || k };
      })
    );
    options(
      $("f-network"),
      state.clusters.map(function (c) {
        return { value: c.id, text: (c.kind === "RETE" ? "Rete: " : "Protocollo: ") + c.name };
      })
    );
    options(
      $("f-collab"),
      unique(state.edges.map(function (e) { return e.kind; })).map(function (k) {
        return { value: k, text: k };
      })
    );
  }

  function visibleNodes() {
    var province = $("f-province").value;
    var kind = $("f-kind").value;
    var network = $("f-network").value;
    var search = $("search").value.trim().toLowerCase();
    var cluster = state.clusters.filter(function (c) { return c.id === network; })[0];
    return state.nodes.filter(function (n) {
      if (province && n.province !== province) return false;
      if (kind && n.kind !== kind) return false;
      if (cluster && cluster.members.indexOf(n.id) < 0 && cluster.lead !== n.id) return false;
      if (search && (n.name + " " + (n.city || "")).toLowerCase().indexOf(search) < 0) return false;
      return true;
    });
  }

  // Agencies that would fall within a few pixels of each other at this zoom (one comune, one
  // office) are spread on rings around their centre, in screen pixels, so that none hides another
  // at any zoom; the map recomputes this after every zoom.
  function positions(nodes) {
    var groups = [];
    nodes.forEach(function (n) {
      if (n.latitude == null || n.longitude == null) return;
      var p = map.latLngToLayerPoint([n.latitude, n.longitude]);
      var group = null;
      for (var i = 0; i < groups.length && !group; i++) {
        if (groups[i].centre.distanceTo(p) < 16) group = groups[i];
      }
      if (!group) {
        group = { centre: p, members: [] };
        groups.push(group);
      }
      group.members.push(n);
    });
    var at = {};
    groups.forEach(function (group) {
      var members = group.members;
      members.forEach(function (n, i) {
        if (members.length === 1) {
          at[n.id] = L.latLng(n.latitude, n.longitude);
          return;
        }
        // Rings of 8, 16, 24…: ring k holds 8k places.
        var ring = 1;
        var first = 0;
        while (i >= first + 8 * ring) {
          first += 8 * ring;
          ring += 1;
        }
        var size = Math.min(8 * ring, members.length - first);
        var angle = (2 * Math.PI * (i - first)) / size + ring * 0.3;
        var radius = 14 * ring;
        at[n.id] = map.layerPointToLatLng(
          L.point(group.centre.x + radius * Math.cos(angle), group.centre.y + radius * Math.sin(angle))
        );
      });
    });
    return at;
  }

  function draw() {
    nodeLayer.clearLayers();
    edgeLayer.clearLayers();
    var nodes = visibleNodes();
    var shown = {};
    nodes.forEach(function (n) {
      shown[n.id] = true;
    });
    var at = positions(nodes);
    var collab = $("f-collab").value;
    var edges = state.edges.filter(function (e) {
      return shown[e.from] && shown[e.to] && (!collab || e.kind === collab);
    });
    var drawnEdges = 0;
    edges.forEach(function (e) {
      if (!at[e.from] || !at[e.to]) return;
      drawnEdges += 1;
      L.polyline([at[e.from], at[e.to]], {
        color: "#5d6d7e",
        weight: 1.5,
        opacity: 0.7,
        className: "edge",
      })
        .bindTooltip(text(e.kind))
        .addTo(edgeLayer);
    });
    var drawnNodes = 0;
    var missing = [];
    nodes.forEach(function (n) {
      if (!at[n.id]) {
        missing.push(n.name);
        return;
      }
      drawnNodes += 1;
      L.circleMarker(at[n.id], {
        radius: 6 + Math.min(6, n.degree || 0),
        color: "#fff",
        weight: 1.5,
        fillColor: KIND_COLOURS[n.kind] || "#7f8c8d",
        fillOpacity: 0.9,
        className: "agency agency-" + n.id,
      })
        .bindTooltip(text(n.name))
        .on("click", function () {
          card(n);
        })
        .addTo(nodeLayer);
    });
    $("counts").textContent =
      drawnNodes + " soggetti e " + drawnEdges + " collaborazioni sulla mappa" +
      (missing.length ? "; " + missing.length + " senza coordinate: " + missing.join(", ") : "") +
      ".";
    document.body.setAttribute("data-nodes", String(drawnNodes));
    document.body.setAttribute("data-edges", String(drawnEdges));
    document.body.setAttribute("data-drawn", "yes");
  }

  function card(n) {
    var rows = [
      ["Tipo", KIND_LABELS[n.kind] || n.kind],
      ["Provincia", n.province],
      ["Città", n.city],
      ["Contatto pubblico", n.publicContact],
      ["Sito", n.website],
    ];
    if (state.partner) rows.push(["Contatto per le segnalazioni", n.referralContact]);
    var html = "<h3>" + text(n.name) + "</h3><dl>";
    rows.forEach(function (r) {
      if (r[1]) html += "<dt>" + text(r[0]) + "</dt><dd>" + text(r[1]) + "</dd>";
    });
    html += "</dl>";
    var mine = state.edges.filter(function (e) {
      return e.from === n.id || e.to === n.id;
    });
    if (mine.length) {
      html += "<h4>Collaborazioni</h4><ul>";
      mine.forEach(function (e) {
        var other = state.byId[e.from === n.id ? e.to : e.from];
        html += "<li>" + text(e.kind) + " con " + text(other ? other.name : "?") + "</li>";
      });
      html += "</ul>";
    }
    var groups = state.clusters.filter(function (c) {
      return c.members.indexOf(n.id) >= 0 || c.lead === n.id;
    });
    if (groups.length) {
      html += "<h4>Reti e protocolli</h4><ul>";
      groups.forEach(function (c) {
        html += "<li>" + text(c.name) + (c.lead === n.id ? " (capofila)" : "") + "</li>";
      });
      html += "</ul>";
    }
    $("card").innerHTML = html;
    $("card").hidden = false;
  }

  // Frames what the filters leave (then draws it, once the zoom has settled).
  function refit() {
    var points = visibleNodes()
      .filter(function (n) {
        return n.latitude != null && n.longitude != null;
      })
      .map(function (n) {
        return [n.latitude, n.longitude];
      });
    if (points.length) {
      map.fitBounds(points, { padding: [40, 40], maxZoom: 13, animate: false });
    }
    draw();
  }

  ["f-province", "f-kind", "f-network", "f-collab"].forEach(function (id) {
    $(id).addEventListener("change", refit);
  });
  $("search").addEventListener("input", draw);
  $("load").addEventListener("click", load);
  map.on("zoomend", draw);
  $("token").value = sessionStorage.getItem("raccordo-token") || "";
  load();
})();
