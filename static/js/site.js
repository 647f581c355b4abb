// anthology-review's own script: paper selection on person pages (shift-click ranges,
// all/none, suggested groups), a paper's details in its row, picking a person from the
// autocomplete or the suggested targets, the target panels, the note counter, and the keyboard
// (the help overlay, `?`, lists the keys).
// Loaded as a file (CSP allows no inline script); every page works without it.
(function () {
  "use strict";

  let lastClicked = null;
  // A person page's paper rows: bare <li>s (a page can list a thousand; templates/assignments/
  // person_detail.html#papers): a checkbox, the title link, the facts.
  const ROWS = "#papers > li";

  function boxes() {
    return Array.from(
      document.querySelectorAll('#papers input[name="authorships"]:not(:disabled)'),
    );
  }

  // The suggested targets follow the selection: htmx fetches them on this event (#targets).
  let lastSelection = null;
  function selectionChanged() {
    const ids = Array.from(
      document.querySelectorAll('#papers input[name="authorships"]:checked'),
      (box) => box.value,
    ).join(",");
    if (ids === lastSelection) return;
    lastSelection = ids;
    document.body.dispatchEvent(new CustomEvent("selection-changed"));
  }

  function updateCount() {
    const checked = document.querySelectorAll('#papers input[name="authorships"]:checked').length;
    const counter = document.getElementById("selected-count");
    if (counter) counter.textContent = String(checked);
    document.querySelectorAll(".js-selected-count").forEach((el) => {
      el.textContent = checked ? `${checked} paper${checked === 1 ? "" : "s"}` : "";
    });
    document.querySelectorAll(ROWS).forEach((li) => {
      const box = li.querySelector('input[name="authorships"]');
      li.classList.toggle("selected", Boolean(box && box.checked));
    });
  }

  function showTargetPanel() {
    const chosen = document.querySelector('#assign input[name="target"]:checked');
    document.querySelectorAll("#assign [data-target-panel]").forEach((panel) => {
      panel.hidden = Boolean(chosen) && panel.dataset.targetPanel !== chosen.value;
    });
  }

  function chooseTarget(kind) {
    const radio = document.querySelector(`#assign input[name="target"][value="${kind}"]`);
    if (radio) radio.checked = true;
    showTargetPanel();
  }

  function pickPerson(button) {
    const input = document.getElementById("id_to_person");
    if (input) input.value = button.dataset.personId;
    const picked = document.getElementById("picked-person");
    if (picked) picked.textContent = `Chosen: ${button.dataset.personLabel}`;
    const choices = document.getElementById("person-choices");
    if (choices) choices.replaceChildren();
    chooseTarget("person");
    markChosen(button);
  }

  function chooseNew(focus) {
    chooseTarget("new");
    markChosen(document.querySelector("#targets [data-choose-new]"));
    // When the page's name gives no free id, the new person needs a degree institution (or
    // an ORCID iD, or an id): go there, Enter then assigns.
    const taken = document.querySelector("#proposed-id .error");
    const field = document.getElementById(taken ? "id_degree" : "id_first_name");
    if ((focus || taken) && field) field.focus();
  }

  function markChosen(button) {
    document.querySelectorAll("#targets .target").forEach((li) => li.classList.remove("chosen"));
    if (button && button.closest(".target")) button.closest(".target").classList.add("chosen");
  }

  // A paper's row is short: its title leads to the paper's page (abstract, authors and
  // their affiliations). Here that page's #item partial loads into the row instead, once; the
  // title then shows and hides it.
  const TITLE = `${ROWS} > a:first-of-type`;

  function toggleDetails(title) {
    const row = title.parentElement;
    const shown = row.querySelector(":scope > .item");
    if (shown) {
      shown.hidden = !shown.hidden;
      return;
    }
    if (row.dataset.loading) return;
    row.dataset.loading = "1";
    htmx.ajax("GET", title.getAttribute("href"), { source: title, target: row, swap: "beforeend" })
      .finally(() => {
        delete row.dataset.loading;
        // this page's person stands out among the authors
        row.querySelectorAll(".item .authors a").forEach((a) => {
          a.classList.toggle("self", a.pathname === location.pathname);
        });
      });
  }

  function updateCounters() {
    document.querySelectorAll("[data-counter-for]").forEach((counter) => {
      const field = document.getElementById(counter.dataset.counterFor);
      if (!field) return;
      const max = Number(field.dataset.maxLength || 0);
      const n = field.value.length;
      counter.textContent = max
        ? `${n.toLocaleString("en")} of ${max.toLocaleString("en")} characters${n > max ? `: ${(n - max).toLocaleString("en")} too many` : ""}`
        : `${n} characters`;
      counter.classList.toggle("error", Boolean(max) && n > max);
    });
  }

  function init() {
    showTargetPanel();
    updateCount();
    updateCounters();
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;

    if (target instanceof HTMLInputElement && target.name === "authorships" && target.closest("#papers")) {
      const all = boxes();
      if (event.shiftKey && lastClicked && lastClicked !== target && all.includes(lastClicked)) {
        const a = all.indexOf(lastClicked);
        const b = all.indexOf(target);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        for (let i = lo; i <= hi; i += 1) all[i].checked = target.checked;
      }
      lastClicked = target;
      updateCount();
      selectionChanged();
      return;
    }

    const title = target.closest(TITLE);
    if (title && event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey)) {
      event.preventDefault();
      toggleDetails(title);
      return;
    }

    const selectAll = target.closest("[data-select]");
    if (selectAll) {
      const value = selectAll.dataset.select === "all";
      boxes().forEach((box) => { box.checked = value; });
      lastClicked = null;
      updateCount();
      selectionChanged();
      return;
    }

    const group = target.closest("[data-select-ids]");
    if (group) {
      event.preventDefault();
      selectGroup(group);
      return;
    }

    const pick = target.closest("button.pick, #targets button[data-person-id]");
    if (pick && pick.closest("#assign")) {
      pickPerson(pick);
      return;
    }
    if (target.closest("#targets [data-choose-new]")) {
      chooseNew(true);
      return;
    }
    if (target.closest("[data-help]")) openHelp();
  });

  function selectGroup(group) {
    const ids = new Set(group.dataset.selectIds.split(","));
    boxes().forEach((box) => { box.checked = ids.has(box.value); });
    lastClicked = null;
    updateCount();
    selectionChanged();
    const first = boxes().find((box) => box.checked);
    if (first) {
      first.closest("li").scrollIntoView({ behavior: "smooth", block: "center" });
      focusPaper(boxes().indexOf(first));
    }
  }

  // -- keyboard ---------------------------------------------------------------------------
  // Keys never fire while typing: in a text field, a text area, a select or an editable
  // region they are the field's. Checkboxes and radios take no letters, so keys work there.

  function typing(element) {
    if (!(element instanceof HTMLElement)) return false;
    if (element.isContentEditable) return true;
    if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) return true;
    if (element instanceof HTMLInputElement) {
      return !["checkbox", "radio", "button", "submit", "reset"].includes(element.type);
    }
    return false;
  }

  let cursor = -1; // the paper j/k are on

  function focusPaper(index) {
    const rows = Array.from(document.querySelectorAll(ROWS));
    if (!rows.length) return;
    cursor = Math.max(0, Math.min(index, rows.length - 1));
    rows.forEach((row, i) => row.classList.toggle("cursor", i === cursor));
    const row = rows[cursor];
    const box = row.querySelector('input[name="authorships"]');
    if (box && !box.disabled) box.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function currentBox() {
    const rows = Array.from(document.querySelectorAll(ROWS));
    const row = rows[cursor];
    const box = row && row.querySelector('input[name="authorships"]');
    return box && !box.disabled ? box : null;
  }

  function toggle(box, value) {
    box.checked = value === undefined ? !box.checked : value;
    lastClicked = box;
    updateCount();
    selectionChanged();
  }

  function openHelp() {
    const dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function clickKey(key) {
    const target = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!target) return false;
    target.click();
    return true;
  }

  // A key that goes to a button rather than pressing it (approve, reject, submit): Enter then
  // presses it, so that no single stray key decides anything.
  function focusKey(key) {
    const target = document.querySelector(`[data-key-focus="${CSS.escape(key)}"]`);
    if (!target) return false;
    target.focus();
    target.scrollIntoView({ block: "nearest" });
    return true;
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Escape") {
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    const help = document.getElementById("keys-help");
    if (help && help.open) return;
    const onPersonPage = Boolean(document.getElementById("papers"));
    let handled = true;
    if (key === "?") {
      openHelp();
    } else if (key === "/") {
      const search = document.querySelector(".header-search input, .big-search input");
      if (search) search.focus();
    } else if (onPersonPage && (key === "j" || key === "k" || key === "J" || key === "K")) {
      const step = key.toLowerCase() === "j" ? 1 : -1;
      if (key === "J" || key === "K") {
        // Shift: tick where you are and where you go, a range as you move
        const here = currentBox();
        if (here) toggle(here, true);
        focusPaper(cursor + step);
        const there = currentBox();
        if (there) toggle(there, true);
      } else {
        focusPaper(cursor < 0 ? 0 : cursor + step);
      }
    } else if (onPersonPage && key === "d") {
      const row = document.querySelectorAll(ROWS)[cursor];
      const title = row && row.querySelector(":scope > a:first-of-type");
      if (title) toggleDetails(title);
      else handled = false;
    } else if (onPersonPage && key === "x") {
      const box = currentBox();
      if (box) toggle(box);
    } else if (onPersonPage && /^[1-9]$/.test(key)) {
      const group = document.querySelector(`[data-select-ids][data-group="${key}"]`);
      if (group) selectGroup(group);
      else handled = false;
    } else if (onPersonPage && key === "a") {
      const first = document.querySelector("#targets button.choose, #person-q");
      if (first) first.focus();
      const panel = document.getElementById("assign");
      if (panel) panel.scrollIntoView({ block: "nearest" });
    } else if (onPersonPage && key === "t") {
      const top = document.querySelector("#targets [data-top-target]");
      if (top && top.dataset.chooseNew !== undefined) chooseNew(false);
      else if (top) pickPerson(top);
      else handled = false;
    } else if (onPersonPage && key === "n") {
      chooseNew(false);
    } else {
      handled = clickKey(key) || focusKey(key);
    }
    if (handled) event.preventDefault();
  }
  document.addEventListener("keydown", onKey);

  // The header's live results close when you click elsewhere or press Escape.
  function closeHeaderResults(event) {
    const results = document.getElementById("header-results");
    if (!results) return;
    if (event.type === "click" && event.target instanceof Element && event.target.closest(".header-search")) return;
    if (event.type === "keydown" && event.key !== "Escape") return;
    results.replaceChildren();
  }
  document.addEventListener("click", closeHeaderResults);
  document.addEventListener("keydown", closeHeaderResults);

  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "target") showTargetPanel();
  });
  document.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.dataset.maxLength) updateCounters();
  });

  // Enter in the person search box searches; it must not submit the assign form.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLElement && event.target.id === "person-q") {
      event.preventDefault();
    }
  });

  // htmx leaves the page as it was when a request fails; say so instead of doing nothing.
  // Refused forms (400, 409, 422) are not failures here: base.html's htmx-config swaps the
  // fragment that carries their message.
  function showRequestError(text) {
    const box = document.getElementById("request-error");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : "";
    showRequestError(
      status === 403
        ? "You are not allowed to do that (log in with a reviewer account)."
        : `The server could not do that (HTTP ${status}). Nothing was changed; please try again.`,
    );
  });
  document.addEventListener("htmx:sendError", () => {
    showRequestError("The server cannot be reached. Nothing was changed; please try again.");
  });
  document.addEventListener("htmx:beforeRequest", () => {
    const box = document.getElementById("request-error");
    if (box) box.hidden = true;
  });

  // The list of papers refreshes itself after a move; papers ticked meanwhile (a fast reviewer
  // selects the next group before it is back) stay ticked where they still can be.
  let tickedBeforeSwap = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "papers") {
      tickedBeforeSwap = new Set(
        Array.from(document.querySelectorAll('#papers input[name="authorships"]:checked'), (b) => b.value),
      );
    }
  });
  // After an assign htmx puts the cursor back in the field it was in (same id): leave the
  // fields, on the "next page" link, so that the keys work again (`]`, or Enter on the link).
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "assign" || !target.querySelector(".success")) return;
    const next = target.querySelector('.success [data-key="]"]');
    if (next) next.focus({ preventScroll: true });
    else if (typing(document.activeElement)) document.activeElement.blur();
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (!tickedBeforeSwap || !event.detail.target || event.detail.target.id !== "papers") return;
    boxes().forEach((box) => { if (tickedBeforeSwap.has(box.value)) box.checked = true; });
    tickedBeforeSwap = null;
    if (cursor >= 0) focusPaper(cursor);
  });

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
