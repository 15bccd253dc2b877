// The class list: sort by any column (click or keyboard) and print. Progressive enhancement:
// without script the list is a plain table in the order the server gave.

const collator = new Intl.Collator(document.documentElement.lang || undefined, { sensitivity: "base", numeric: true });

function cellText(row, index) {
  const cell = row.cells[index];
  // A field nobody shared sorts last, whichever the direction.
  return cell && !cell.querySelector(".empty") ? cell.textContent.trim() : null;
}

export function sortTable(table, index, direction) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellText(a, index);
    const y = cellText(b, index);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const order = collator.compare(x, y);
    return direction === "descending" ? -order : order;
  });
  body.append(...rows);
  table.querySelectorAll("th[scope=col]").forEach((th, i) => {
    th.setAttribute("aria-sort", i === index ? direction : "none");
  });
}

function enhance(table) {
  table.querySelectorAll("th[scope=col]").forEach((th, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent.trim();
    th.textContent = "";
    th.append(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", () => {
      const next = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      sortTable(table, index, next);
    });
  });
}

document.querySelectorAll("table[data-sortable]").forEach(enhance);
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
