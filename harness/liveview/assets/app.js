// The live view: one board per server-sent event, drawn with the DOM (no
// framework, nothing from the network but this server). Text a player
// typed is set as text, never as HTML.
(function () {
  "use strict";
  var view = document.body.dataset.view;
  var token = new URLSearchParams(location.search).get("token") || "";
  var board = null;
  var got = 0; // when the board came, by this browser's clock

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }
  // Seconds since the board came, while the game day runs.
  function drift() { return board && board.stage === "running" ? (Date.now() - got) / 1000 : 0; }

  var gradeIcon = { Optimal: "\u2714", Healthy: "\u2714", Degraded: "\u25B2", Unhealthy: "\u2716" };

  function party(p) {
    var grade = p.health || "";
    var cls = grade ? "grade-" + grade.toLowerCase() : "grade-none";
    var card = el("div", "party " + cls);
    card.dataset.party = p.party;
    card.dataset.grade = grade || "none";
    card.dataset.state = p.state;
    card.appendChild(el("div", "num", "party " + p.party));
    var word = grade ? (gradeIcon[grade] || "") + " " + grade : (p.state === "running" ? "? NO GRADE" : "\u2716 DOWN");
    card.appendChild(el("div", "grade", word));
    var state = p.state;
    if (p.oom_killed) state += " (OOMKilled)";
    if (p.state === "exited") state += " (exit " + (p.exit_code === undefined ? "unknown" : p.exit_code) + ")";
    card.appendChild(el("div", "line", state));
    card.appendChild(el("div", "line", p.restarts + (p.restarts === 1 ? " restart" : " restarts")));
    var peers = p.peers_up === undefined ? "peers: –" : "peers " + p.peers_up + "/" + p.peers + " reachable";
    card.appendChild(el("div", "line", peers));
    if (p.error) card.appendChild(el("div", "line note", p.error));
    return card;
  }

  function quorum(q) {
    var box = el("div", "quorum grade-" + q.grade.toLowerCase());
    box.dataset.grade = q.grade;
    box.appendChild(el("div", "qword", (gradeIcon[q.grade] || "") + " " + q.up + " of " + q.n + " parties answer: " + q.grade));
    var gauge = el("div", "gauge");
    gauge.setAttribute("role", "meter");
    gauge.setAttribute("aria-valuemin", "0");
    gauge.setAttribute("aria-valuemax", String(q.n));
    gauge.setAttribute("aria-valuenow", String(q.up));
    var fill = el("div", "fill");
    fill.style.width = (100 * q.up / q.n) + "%";
    gauge.appendChild(fill);
    [[q.degraded, "t+2 = " + q.degraded + " Degraded"], [q.healthy, "2t+1 = " + q.healthy + " Healthy"], [q.n, "n = " + q.n + " Optimal"]].forEach(function (m) {
      var mark = el("div", "mark");
      mark.style.left = (100 * m[0] / q.n) + "%";
      mark.title = m[1];
      gauge.appendChild(mark);
    });
    box.appendChild(gauge);
    var legend = el("div", "legend", "Unhealthy < " + q.degraded + " (t+2) \u2264 Degraded < " + q.healthy + " (2t+1) \u2264 Healthy < " + q.n + " (n) = Optimal");
    box.appendChild(legend);
    return box;
  }

  function ops(o) {
    var box = el("div");
    var rate = o.per_second === undefined ? "–" : o.per_second.toFixed(1);
    [["ops/s", rate, ""], ["ok", o.ok, "ok"], ["failed", o.failed, o.failed ? "warn" : ""], ["wrong", o.wrong, o.wrong ? "bad" : ""]].forEach(function (x) {
      var s = el("div", "stat " + x[2]);
      s.appendChild(el("div", "v", String(x[1])));
      s.appendChild(el("div", "k", x[0]));
      box.appendChild(s);
    });
    return box;
  }

  function said(b) {
    var items = [];
    var scored = b.scored || null;
    (b.diagnoses || []).forEach(function (d, i) {
      var li = el("li", "diag");
      var verdict = "";
      if (scored) {
        verdict = scored[i].right ? "\u2714 right (fault " + scored[i].fault + ") " : "\u2716 wrong ";
        li.className += scored[i].right ? " right" : " wrong";
      }
      li.appendChild(el("span", "at", "+" + clock(d.at_s)));
      li.appendChild(el("span", "what", verdict + "diagnosis: party " + d.party + ", " + d.kind));
      if (d.text) li.appendChild(el("span", "text", "\u201C" + d.text + "\u201D"));
      items.push([d.at_s, li]);
    });
    (b.runbooks || []).forEach(function (r) {
      var li = el("li", "runbook " + (r.passed ? "right" : "wrong"));
      li.appendChild(el("span", "at", "+" + clock(r.at_s)));
      li.appendChild(el("span", "what", "runbook " + r.runbook + " on party " + r.party + ": " + (r.passed ? "\u2714 PASS" : "\u2716 FAIL") + " in " + clock(r.took_s)));
      items.push([r.at_s, li]);
    });
    var answered = b.escalations_right || null;
    (b.escalations || []).forEach(function (x, i) {
      var li = el("li", "escalation");
      var verdict = "";
      if (answered) {
        verdict = answered[i] ? "\u2714 right " : "\u2716 wrong ";
        li.className += answered[i] ? " right" : " wrong";
      }
      li.appendChild(el("span", "at", "+" + clock(x.at_s)));
      li.appendChild(el("span", "what", verdict + "escalation about party " + x.party + ": " + x.ask));
      if (x.answer) li.appendChild(el("span", "text", "coordinator: " + x.answer));
      items.push([x.at_s, li]);
    });
    items.sort(function (a, b) { return b[0] - a[0]; });
    return items.map(function (x) { return x[1]; });
  }

  var stateWord = { due: "due", on: "ON", recovered: "\u2714 recovered by the players", healed: "\u2716 healed by the harness", failed: "did not inject" };

  function faults(b, d) {
    var body = $("faults").tBodies[0];
    body.replaceChildren();
    b.faults.forEach(function (f) {
      var tr = el("tr", "fault state-" + f.state);
      tr.dataset.fault = f.n;
      tr.dataset.state = f.state;
      tr.appendChild(el("td", "", String(f.n)));
      var what = el("td", "truth");
      what.appendChild(el("span", "kind", f.kind));
      what.appendChild(document.createTextNode(" on "));
      what.appendChild(el("span", "target", f.target));
      what.appendChild(el("div", "name", f.name));
      tr.appendChild(what);
      var st = stateWord[f.state] || f.state;
      if (f.state === "due") st = "due in " + clock(f.due_s - b.elapsed_s - d);
      tr.appendChild(el("td", "st", st));
      tr.appendChild(el("td", "", f.injected_s === undefined ? "–" : "+" + clock(f.injected_s)));
      var left = "–";
      if (f.left_s !== undefined) left = clock(f.left_s - d) + " to the limit";
      tr.appendChild(el("td", "left", left));
      body.appendChild(tr);
    });
  }

  function timeline(b, d) {
    var tl = $("timeline");
    tl.replaceChildren();
    var now = b.elapsed_s + d;
    var span = Math.max(b.span_s, now, 1) * 1.05;
    function pct(s) { return (100 * s / span) + "%"; }
    function lane(label) {
      var row = el("div", "lane");
      row.appendChild(el("div", "lane-label", label));
      var track = el("div", "track");
      var nowMark = el("div", "now");
      nowMark.style.left = pct(now);
      track.appendChild(nowMark);
      row.appendChild(track);
      tl.appendChild(row);
      return track;
    }
    b.faults.forEach(function (f) {
      var track = lane("fault " + f.n);
      var due = el("div", "due", "\u25BC");
      due.style.left = pct(f.due_s);
      due.title = "due at +" + clock(f.due_s);
      track.appendChild(due);
      if (f.injected_s !== undefined) {
        var end = f.end_s === undefined ? now : f.end_s;
        var bar = el("div", "bar state-" + f.state, f.state === "on" ? "on" : (stateWord[f.state] || ""));
        bar.style.left = pct(f.injected_s);
        bar.style.width = pct(Math.max(end - f.injected_s, span / 200));
        track.appendChild(bar);
      }
    });
    var players = lane("players");
    (b.scored || []).forEach(function (s) {
      var m = el("div", "tick " + (s.right ? "right" : "wrong"), s.right ? "\u2714" : "\u2716");
      m.style.left = pct(s.at_s);
      m.title = "party " + s.party + ", " + s.kind;
      players.appendChild(m);
    });
    (b.escalations || []).forEach(function (x, i) {
      var right = (b.escalations_right || [])[i];
      var m = el("div", "tick " + (right ? "right" : "wrong"), "E");
      m.style.left = pct(x.at_s);
      m.title = "escalation about party " + x.party;
      players.appendChild(m);
    });
    (b.runbooks || []).forEach(function (r) {
      var m = el("div", "tick runbook " + (r.passed ? "right" : "wrong"), "R");
      m.style.left = pct(r.at_s);
      m.title = r.runbook + " on party " + r.party;
      players.appendChild(m);
    });
  }

  function render() {
    if (!board) return;
    var b = board, d = drift();
    $("gameday").textContent = b.gameday || "(none)";
    $("cluster").textContent = "cluster " + b.run + " \u00B7 n=" + b.n + ", t=" + b.t;
    var stage = $("stage");
    stage.textContent = b.stage + (b.stage === "running" && !b.runner_alive ? " (background process not seen)" : "");
    stage.className = "badge stage-" + b.stage;
    $("elapsed").textContent = clock(b.elapsed_s + d);
    var banner = $("halt-banner");
    if (b.halt) {
      banner.hidden = false;
      banner.textContent = "\u26D4 HALTED at " + new Date(b.halt.at).toLocaleTimeString() + " by " + b.halt.by + ": " + b.halt.cause;
    } else {
      banner.hidden = true;
    }
    var err = $("error");
    err.hidden = !b.error;
    err.textContent = b.error || "";
    if (!b.parties) return; // no board read yet: only the error above
    $("parties").replaceChildren.apply($("parties"), b.parties.map(party));
    $("quorum").replaceChildren(quorum(b.quorum));
    $("ops").replaceChildren(ops(b.ops));
    $("said").replaceChildren.apply($("said"), said(b));
    if (view === "facilitator") {
      $("wrong").textContent = b.wrong_diagnoses + " wrong";
      faults(b, d);
      timeline(b, d);
    }
  }

  // Between two boards only the clocks move.
  function tick() {
    if (!board || board.stage !== "running") return;
    var d = drift();
    $("elapsed").textContent = clock(board.elapsed_s + d);
    if (view === "facilitator") { faults(board, d); timeline(board, d); }
  }

  function connect() {
    var src = view === "facilitator" ? "/facilitator/events?token=" + encodeURIComponent(token) : "/events";
    var es = new EventSource(src);
    es.addEventListener("board", function (e) {
      board = JSON.parse(e.data);
      got = Date.now();
      render();
    });
    es.onopen = function () { $("conn").textContent = "live"; $("conn").className = "badge live"; };
    es.onerror = function () { $("conn").textContent = "reconnecting…"; $("conn").className = "badge lost"; };
  }

  if (view === "facilitator") {
    $("reveal").addEventListener("click", function () {
      var on = document.body.classList.toggle("revealed");
      this.setAttribute("aria-pressed", String(on));
      this.textContent = on ? "Hide" : "Reveal";
    });
    $("halt").addEventListener("click", function () { $("halt-confirm-box").hidden = false; });
    $("halt-cancel").addEventListener("click", function () { $("halt-confirm-box").hidden = true; });
    $("halt-confirm-box").addEventListener("submit", function (e) {
      e.preventDefault();
      $("halt-confirm-box").hidden = true;
      $("halt-result").textContent = "halting…";
      fetch("/facilitator/halt?token=" + encodeURIComponent(token), {
        method: "POST",
        body: new URLSearchParams({ cause: $("halt-cause").value })
      }).then(function (r) { return r.text(); }).then(function (t) {
        $("halt-result").textContent = t;
      }, function (err) { $("halt-result").textContent = "halt failed: " + err; });
    });
  }
  setInterval(tick, 1000);
  connect();
})();
