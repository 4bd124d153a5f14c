// Browse: the filter box is open beside the results on wide screens, folded on phones.
(function () {
  var box = document.getElementById("browse-filters-box");
  if (!box) return;
  var desktop = window.matchMedia("(min-width: 992px)");
  function fit() { box.open = desktop.matches; }
  fit();
  desktop.addEventListener("change", fit);
})();
