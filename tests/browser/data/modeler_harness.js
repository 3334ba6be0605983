/* Test harness of the modeller bundle: no inline script (the page runs under DIAGRAM_CSP). */
(function () {
  'use strict';

  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (event) {
    window.cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || '') + ' '
      + (event.sourceFile || '') + ':' + (event.lineNumber || ''));
  });

  window.harness = {
    bpmn: null,
    dmn: null,

    /** Create the BPMN modeller (again) with `options` and open `xml`; resolves with the import warnings. */
    openBpmn: async function (xml, options) {
      if (this.bpmn) {
        this.bpmn.destroy();
      }
      this.bpmn = await window.YuqingModeler.createBpmn(Object.assign({
        container: '#canvas', panel: '#panel', xml: xml,
      }, options || {}));
      return this.bpmn.warnings;
    },

    /** Import into the existing BPMN modeller; resolves with the warnings. */
    importBpmn: async function (xml) {
      return (await this.bpmn.importXML(xml)).warnings;
    },

    saveBpmn: function () {
      return this.bpmn.saveXML();
    },

    openDmn: async function (xml) {
      if (this.dmn) {
        this.dmn.destroy();
      }
      this.dmn = await window.YuqingModeler.createDmn({ container: '#dmn', xml: xml });
      return this.dmn.warnings;
    },

    saveDmn: function () {
      return this.dmn.saveXML();
    },
  };
}());
