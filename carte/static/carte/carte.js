// Small progressive enhancements; every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  }
});
// Close the organisation switcher when clicking elsewhere.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.org-switcher[open]").forEach(function (d) {
    if (!d.contains(event.target)) d.removeAttribute("open");
  });
});
// Zoom buttons of the dependency graph: hidden without this file, where "Full size" serves.
document.querySelectorAll("[data-graph-zoom-tools]").forEach(function (tools) {
  tools.hidden = false;
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-graph-zoom]");
  if (!button) return;
  var svg = document.getElementById(button.getAttribute("aria-controls"));
  if (!svg) return;
  var step = button.getAttribute("data-graph-zoom") === "in" ? 1.25 : 0.8;
  var natural = svg.viewBox.baseVal.width;
  var width = svg.getBoundingClientRect().width * step;
  width = Math.max(Math.min(width, natural * 3), Math.min(natural, 200));
  svg.style.maxWidth = "none";
  svg.style.width = Math.round(width) + "px";
  svg.style.height = "auto";
});
