// Row tables of task forms (docs/forms.md): 添加一行 copies the table's blank <template> row, 删除本行
// removes a row. Without this script the page still works: 添加一行 is then a submit button that
// re-shows the form with one more row, and a row left blank is ignored.
(function () {
  "use strict";

  var PLACEHOLDERS = /__i__|__n__/g;
  var ATTRIBUTES = ["name", "id", "for", "aria-label", "aria-describedby"];

  function rowsOf(table) {
    return table.tBodies[0].rows;
  }

  function nextIndex(table, name) {
    var prefix = name + ".";
    var next = 0;
    Array.prototype.forEach.call(table.querySelectorAll("[name]"), function (input) {
      var rest = input.getAttribute("name").slice(prefix.length).split(".")[0];
      if (input.getAttribute("name").indexOf(prefix) === 0 && /^\d+$/.test(rest)) {
        next = Math.max(next, parseInt(rest, 10) + 1);
      }
    });
    return next;
  }

  function refresh(table) {
    var button = document.querySelector('[data-rows-add="' + table.id + '"]');
    var max = parseInt(table.getAttribute("data-rows-max"), 10);
    if (button) {
      button.disabled = rowsOf(table).length >= max;
    }
  }

  function addRow(table) {
    var template = document.getElementById(table.id + "-template");
    var name = table.getAttribute("data-rows-name");
    if (!template || rowsOf(table).length >= parseInt(table.getAttribute("data-rows-max"), 10)) {
      return;
    }
    var index = String(nextIndex(table, name));
    var number = String(rowsOf(table).length + 1);
    var row = template.content.firstElementChild.cloneNode(true);
    Array.prototype.forEach.call(row.querySelectorAll("*"), function (element) {
      ATTRIBUTES.forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value !== null) {
          element.setAttribute(attribute, value.replace(PLACEHOLDERS, function (found) {
            return found === "__i__" ? index : number;
          }));
        }
      });
    });
    row.querySelectorAll("[data-rows-remove]").forEach(function (button) { button.hidden = false; });
    table.tBodies[0].appendChild(row);
    refresh(table);
    var first = row.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  function removeRow(row) {
    var table = row.closest("table");
    if (rowsOf(table).length > 1) {
      row.parentNode.removeChild(row);
    } else {  // the last row stays, emptied: a blank row is ignored on submit
      row.querySelectorAll("input, textarea").forEach(function (input) { input.value = ""; });
      row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    }
    refresh(table);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    var add = target && target.closest("[data-rows-add]");
    var remove = target && target.closest("[data-rows-remove]");
    if (add) {
      event.preventDefault();
      addRow(document.getElementById(add.getAttribute("data-rows-add")));
    } else if (remove) {
      event.preventDefault();
      removeRow(remove.closest("tr"));
    }
  });

  document.querySelectorAll("[data-rows-add], table.rows [data-rows-remove]").forEach(function (button) {
    button.hidden = false;
  });
}());
