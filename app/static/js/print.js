// The print view's button: opens the browser's print dialog (CSP allows only scripts served by us).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
