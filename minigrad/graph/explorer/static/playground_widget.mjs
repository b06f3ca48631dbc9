// The Jupyter widget of minigrad.graph.Playground (anywidget): the playground page in a
// sandboxed frame, and a relay. The page posts {mg: "edit", id, edit} (and {mg: "ready"}
// once it has booted); Python answers {type: "update", id, data}, which goes back into the
// frame as {mg: "update", id, data}. Python also sends updates of its own (id null) after
// edits made in a notebook cell. The page's code is static/live/80_playground.js; nothing is fetched.
function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.setAttribute("title", "minigrad playground");
  frame.className = "minigrad-playground";
  frame.style.cssText = "width:100%;border:1px solid #ccc;display:block";
  const size = () => { frame.style.height = (model.get("height") || 760) + "px"; };
  size();
  frame.srcdoc = model.get("html");
  const fromPage = (ev) => {
    const m = ev.data;
    if (ev.source !== frame.contentWindow || !m || typeof m !== "object") return;
    if (m.mg === "edit") model.send({ type: "edit", id: m.id, edit: m.edit });
    else if (m.mg === "ready") model.send({ type: "ready" });
  };
  const fromPython = (msg) => {
    if (!msg || msg.type !== "update" || !frame.contentWindow) return;
    frame.contentWindow.postMessage({ mg: "update", id: msg.id, data: msg.data }, "*");
  };
  const newPage = () => { frame.srcdoc = model.get("html"); };
  window.addEventListener("message", fromPage);
  model.on("msg:custom", fromPython);
  model.on("change:html", newPage);
  model.on("change:height", size);
  el.appendChild(frame);
  return () => {
    window.removeEventListener("message", fromPage);
    model.off("msg:custom", fromPython);
    model.off("change:html", newPage);
    model.off("change:height", size);
  };
}
export default { render };
