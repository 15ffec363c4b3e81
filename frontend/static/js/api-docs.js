// The API documentation page: Swagger UI from the npm install, no CDN, no inline script (CSP).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // never send the document to an outside validator
    tryItOutEnabled: false,
  });
})();
