// anthology-review's own script: paper selection on person pages (shift-click ranges,
// all/none, suggested groups), picking a person from the autocomplete, and the target panels.
// Loaded as a file (CSP allows no inline script); every page works without it.
(function () {
  "use strict";

  let lastClicked = null;

  function boxes() {
    return Array.from(
      document.querySelectorAll('#papers input[name="authorships"]:not(:disabled)'),
    );
  }

  function updateCount() {
    const checked = document.querySelectorAll('#papers input[name="authorships"]:checked').length;
    const counter = document.getElementById("selected-count");
    if (counter) counter.textContent = String(checked);
    document.querySelectorAll(".js-selected-count").forEach((el) => {
      el.textContent = checked ? `${checked} paper${checked === 1 ? "" : "s"}` : "";
    });
    document.querySelectorAll("#papers li.paper").forEach((li) => {
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

  function init() {
    showTargetPanel();
    updateCount();
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
      return;
    }

    const selectAll = target.closest("[data-select]");
    if (selectAll) {
      const value = selectAll.dataset.select === "all";
      boxes().forEach((box) => { box.checked = value; });
      lastClicked = null;
      updateCount();
      return;
    }

    const group = target.closest("[data-select-ids]");
    if (group) {
      event.preventDefault();
      const ids = new Set(group.dataset.selectIds.split(","));
      boxes().forEach((box) => { box.checked = ids.has(box.value); });
      lastClicked = null;
      updateCount();
      const first = boxes().find((box) => box.checked);
      if (first) first.closest("li").scrollIntoView({ behavior: "smooth", block: "center" });
      return;
    }

    const pick = target.closest("button.pick");
    if (pick && pick.closest("#assign")) {
      const input = document.getElementById("id_to_person");
      if (input) input.value = pick.dataset.personId;
      const picked = document.getElementById("picked-person");
      if (picked) picked.textContent = `Chosen: ${pick.dataset.personLabel}`;
      const choices = document.getElementById("person-choices");
      if (choices) choices.replaceChildren();
    }
  });

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

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
