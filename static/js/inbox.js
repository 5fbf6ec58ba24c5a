/* cleaninbox: keyboard shortcuts, row selection and list refreshes. No dependencies
   beyond htmx (served from static/). Everything here is progressive: without it the
   inbox still works with links and forms. */
(function () {
  "use strict";

  var cursorId = null;        // the row j/k points at, kept across polling swaps
  var selected = new Set();   // ids ticked for bulk moves, kept across polling swaps

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#email-list tr.row")); }

  function setCursor(row) {
    rows().forEach(function (r) { r.classList.remove("is-cursor"); });
    if (!row) { return; }
    row.classList.add("is-cursor");
    cursorId = row.dataset.id;
    row.scrollIntoView({ block: "nearest" });
  }

  function moveCursor(step) {
    var all = rows();
    if (!all.length) { return false; }
    var index = all.findIndex(function (r) { return r.dataset.id === cursorId; });
    index = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    setCursor(all[index]);
    return true;
  }

  function currentRow() {
    return rows().find(function (r) { return r.dataset.id === cursorId; }) || null;
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) { window.location.href = link.href; return true; }
    return false;
  }

  function isTyping(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (isTyping(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var inList = !!document.getElementById("email-list");
    var handled = false;
    switch (event.key) {
      case "j": handled = inList ? moveCursor(1) : follow("a#next"); break;
      case "k": handled = inList ? moveCursor(-1) : follow("a#previous"); break;
      case "Enter":
      case "o": {
        var row = currentRow();
        if (row) { window.location.href = row.dataset.href; handled = true; }
        break;
      }
      case "x": {
        var r = currentRow();
        var box = r && r.querySelector("input[name=ids]");
        if (box) { box.click(); handled = true; }
        break;
      }
      case "a": handled = click("button[data-key='a']"); break;
      case "h": handled = click("button[data-key='h']"); break;
      case "1": case "2": case "3": handled = click("button[data-key='" + event.key + "']"); break;
      case "i": {
        var pick = document.querySelector("[data-pick]");
        if (pick) { pick.focus(); handled = true; }
        break;
      }
      case "w": {
        var why = document.getElementById("explanation");
        if (why) { why.open = !why.open; if (why.open) { why.scrollIntoView({ block: "nearest" }); } handled = true; }
        break;
      }
      case "u": handled = follow("a#back-to-list"); break;
      case "/": {
        var search = document.querySelector("[data-search]");
        if (search) { search.focus(); search.select(); handled = true; }
        break;
      }
      case "?": toggleHelp(); handled = true; break;
    }
    if (handled) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help]")) { toggleHelp(); return; }
    var selectAll = event.target.closest("[data-select-all]");
    if (selectAll) {
      document.querySelectorAll("#email-list input[name=ids]").forEach(function (box) {
        box.checked = selectAll.checked;
        if (box.checked) { selected.add(box.value); } else { selected.delete(box.value); }
      });
      return;
    }
    var box = event.target.closest("#email-list input[name=ids]");
    if (box) {
      if (box.checked) { selected.add(box.value); } else { selected.delete(box.value); }
      return;
    }
    // A click anywhere on a row opens the email (the subject is also a real link).
    var row = event.target.closest("#email-list tr.row");
    if (row && !event.target.closest("a, button, input, label")) {
      window.location.href = row.dataset.href;
    }
  });

  // Polling replaced the list: put back the cursor and the ticked boxes.
  function restore() {
    var row = currentRow();
    if (row) { row.classList.add("is-cursor"); }
    document.querySelectorAll("#email-list input[name=ids]").forEach(function (box) {
      box.checked = selected.has(box.value);
    });
  }
  document.addEventListener("htmx:afterSettle", restore);
})();
