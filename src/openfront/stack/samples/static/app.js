// Fetches a few URLs through the edge and shows how each was served.
const probes = ["/index.html", "/static/style.css", "/static/logo.png", "/api/status.json"];

async function probe(url) {
  const response = await fetch(url, { cache: "no-store" });
  return {
    url,
    status: response.status,
    xCache: response.headers.get("X-Cache") ?? "-",
    age: response.headers.get("Age") ?? "-",
    cacheControl: response.headers.get("Cache-Control") ?? "-",
  };
}

async function refresh() {
  const rows = await Promise.all(probes.map(probe));
  const body = document.querySelector("#probes tbody");
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      for (const value of [row.url, row.status, row.xCache, row.age, row.cacheControl]) {
        const td = document.createElement("td");
        td.textContent = String(value);
        tr.append(td);
      }
      return tr;
    }),
  );
}

document.querySelector("#again").addEventListener("click", refresh);
refresh();
