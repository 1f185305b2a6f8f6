// The reference reads the spec this server serves and tries requests against
// the address the page was loaded from, whatever the deployment's host is.
fetch('/openapi.json')
  .then((r) => r.json())
  .then((doc) => {
    doc.servers = [{ url: window.location.origin, description: 'This deployment (the address of this page)' }];
    document.getElementById('reference').apiDescriptionDocument = doc;
  });
