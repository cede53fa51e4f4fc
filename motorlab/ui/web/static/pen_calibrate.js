// Screen calibration page: a card-shaped box sized by a slider; screen facts go with each form.
"use strict";
(function () {
  for (const el of document.querySelectorAll(".screen-w")) el.value = String(screen.width);
  for (const el of document.querySelectorAll(".screen-h")) el.value = String(screen.height);
  for (const el of document.querySelectorAll(".dpr")) el.value = String(window.devicePixelRatio || 1);
  const box = document.getElementById("card-box");
  const slider = document.getElementById("card-size");
  const ratio = parseFloat(box.dataset.cardH) / parseFloat(box.dataset.cardW);
  function size() {
    const w = parseFloat(slider.value);
    box.style.width = w + "px";
    box.style.height = (w * ratio) + "px";
    document.getElementById("box-w").value = String(w);
    document.getElementById("box-h").value = String(w * ratio);
  }
  slider.addEventListener("input", size);
  size();
})();
