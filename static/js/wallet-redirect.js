// Post the signed payment form to the wallet's page as soon as this page loads; the visible
// button stays for browsers without JavaScript (and if the post is slow to leave).
(function () {
  var form = document.getElementById("wallet-form");
  if (form) {
    form.submit();
  }
})();
