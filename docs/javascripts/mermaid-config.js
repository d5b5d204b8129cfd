// The site's diagrams keep their natural size and scroll sideways in a narrow window (a phone)
// instead of shrinking until the labels cannot be read. mkdocs-material calls
// mermaid.initialize with its own settings; this adds ours to them.
(function () {
  if (typeof mermaid === "undefined" || !mermaid.initialize) return;
  var initialize = mermaid.initialize.bind(mermaid);
  mermaid.initialize = function (config) {
    var c = Object.assign({}, config || {});
    // closer ranks and nodes than Mermaid's defaults (50, 50): more of a diagram fits the screen
    c.flowchart = Object.assign({}, c.flowchart || {}, { useMaxWidth: false, rankSpacing: 36, nodeSpacing: 28 });
    return initialize(c);
  };
})();
