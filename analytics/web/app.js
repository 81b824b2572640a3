// The fleet's figures from the data API, drawn as inline SVG. No library, no network but
// this server: every request carries the token the user typed (kept in this page only).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

class ApiError extends Error {}

// Every item of a list, page by page. An answer that is not 200 becomes the API's own
// one-line message (it names the parameter or the token), never a blank page.
async function everyItem(path, params, token) {
  const items = [];
  let offset = 0;
  while (offset !== null) {
    const query = new URLSearchParams({ ...params, limit: "500", offset: String(offset) });
    let response;
    try {
      response = await fetch(`${path}?${query}`, { headers: { Authorization: `Bearer ${token}` } });
    } catch (error) {
      throw new ApiError(`The API cannot be reached: ${error.message}`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      throw new ApiError(`${path}: the API answered ${response.status} without JSON`);
    }
    if (!response.ok) {
      const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      throw new ApiError(`${response.status} ${response.statusText}: ${detail}`);
    }
    items.push(...body.items);
    offset = body.next_offset;
  }
  return items;
}

function element(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function empty(target, text) {
  clear(target);
  const note = document.createElement("p");
  note.className = "empty";
  note.textContent = text;
  target.appendChild(note);
}

// Horizontal bars: one row per [label, value].
function barChart(target, rows, name) {
  if (rows.length === 0 || rows.every(([, value]) => value === 0)) {
    empty(target, "Nothing on these days.");
    return;
  }
  clear(target);
  const width = 480, labelWidth = 130, row = 24;
  const most = Math.max(...rows.map(([, value]) => value));
  const svg = element("svg", { viewBox: `0 0 ${width} ${rows.length * row + 4}`, role: "img",
    "aria-label": name, "data-chart": name });
  rows.forEach(([label, value], index) => {
    const y = index * row + 2;
    const length = most ? ((width - labelWidth - 60) * value) / most : 0;
    svg.appendChild(element("text", { x: labelWidth - 6, y: y + 15, "text-anchor": "end" }, label));
    const bar = element("rect", { class: "bar", x: labelWidth, y, width: Math.max(length, 1),
      height: row - 6, "data-label": label, "data-value": value });
    bar.appendChild(element("title", {}, `${label}: ${value}`));
    svg.appendChild(bar);
    svg.appendChild(element("text", { class: "value", x: labelWidth + length + 6, y: y + 15 },
      value.toLocaleString("en")));
  });
  target.appendChild(svg);
}

// 24 columns: events per hour, touches as the darker part.
function hourChart(target, hours) {
  if (hours.every((hour) => hour.events === 0)) {
    empty(target, "Nothing on these days.");
    return;
  }
  clear(target);
  const width = 480, height = 160, base = 140, step = width / 24;
  const most = Math.max(...hours.map((hour) => hour.events));
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "traffic by hour", "data-chart": "traffic" });
  hours.forEach((hour, index) => {
    const x = index * step + 2;
    const tall = ((base - 24) * hour.events) / most;
    const touches = ((base - 24) * hour.touches) / most;
    const column = element("rect", { class: "bar", x, y: base - tall, width: step - 4, height: tall });
    column.appendChild(element("title", {}, `${index}:00 ${hour.events} events, ${hour.touches} touches`));
    svg.appendChild(column);
    svg.appendChild(element("rect", { class: "bar touches", x, y: base - touches, width: step - 4,
      height: touches }));
    if (index % 3 === 0) svg.appendChild(element("text", { x, y: base + 15 }, String(index)));
  });
  svg.appendChild(element("text", { class: "value", x: width - 4, y: 10, "text-anchor": "end" },
    `busiest hour: ${most.toLocaleString("en")} events`));
  target.appendChild(svg);
}

function sumBy(rows, key, fields) {
  const sums = new Map();
  for (const row of rows) {
    const sum = sums.get(row[key]) || Object.fromEntries(fields.map((field) => [field, 0]));
    for (const field of fields) sum[field] += row[field];
    sums.set(row[key], sum);
  }
  return sums;
}

function showFunnel(rows) {
  const steps = ["passed", "approached", "engaged", "shoppers", "touched", "viewed_product"];
  const labels = ["passed by", "came closer", "engaged", "shoppers", "touched", "saw a product"];
  const total = Object.fromEntries(steps.map((step) => [step, 0]));
  for (const row of rows) for (const step of steps) total[step] += row[step];
  barChart($("funnel"), steps.map((step, index) => [labels[index], total[step]]), "funnel");
}

function showTop(rows) {
  const sums = sumBy(rows, "sku", ["interactions"]);
  const ranked = [...sums.entries()].sort((a, b) => b[1].interactions - a[1].interactions || (a[0] < b[0] ? -1 : 1));
  barChart($("top"), ranked.slice(0, 12).map(([sku, sum]) => [sku, sum.interactions]), "top products");
}

function showTraffic(rows) {
  const sums = sumBy(rows, "hour", ["events", "touches"]);
  const hours = [...Array(24).keys()].map((hour) => sums.get(hour) || { events: 0, touches: 0 });
  hourChart($("traffic"), hours);
}

function showPairs(rows) {
  const body = $("pairs").tBodies[0];
  clear(body);
  for (const pair of rows.slice(0, 15)) {
    const tr = body.insertRow();
    const cells = [pair.date, pair.a, pair.b, pair.sessions, pair.support.toFixed(3),
      pair.confidence.toFixed(2), pair.lift.toFixed(2)];
    cells.forEach((value, index) => {
      const td = tr.insertCell();
      td.textContent = String(value);
      if (index >= 3) td.className = "number";
    });
  }
  if (rows.length === 0) pairsNote("No products were viewed together.");
}

function pairsNote(text) {
  const body = $("pairs").tBodies[0];
  clear(body);
  const td = body.insertRow().insertCell();
  td.colSpan = 7;
  td.className = "empty";
  td.textContent = text;
}

function showError(message) {
  $("figures").hidden = true;
  $("error").textContent = message;
  $("error").hidden = false;
  $("status").textContent = "";
}

async function fillStores(token) {
  const stores = await everyItem("/v1/stores", {}, token);
  const select = $("store");
  const chosen = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const store of stores) select.add(new Option(store.store_id, store.store_id));
  select.value = stores.some((store) => store.store_id === chosen) ? chosen : "";
}

async function show(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  $("error").hidden = true;
  $("status").textContent = "Asking the API…";
  try {
    await fillStores(token);
    const params = { from: $("from").value, to: $("to").value };
    if ($("store").value) params.store = $("store").value;
    const asked = await Promise.allSettled([
      everyItem("/v1/metrics/funnel", params, token),
      everyItem("/v1/metrics/top-products", params, token),
      everyItem("/v1/metrics/traffic", params, token),
      everyItem("/v1/metrics/pairs", params, token),
    ]);
    const failed = asked.filter((answer) => answer.status === "rejected");
    if (failed.length === asked.length) {
      throw new ApiError([...new Set(failed.map((answer) => answer.reason.message))].join("\n"));
    }
    // a figure this token may not read (a brand's token: funnel, traffic) says so in its place
    const draw = [showFunnel, showTop, showTraffic, showPairs];
    const places = ["funnel", "top", "traffic", "pairs"];
    asked.forEach((answer, index) => {
      if (answer.status === "fulfilled") draw[index](answer.value);
      else if (places[index] === "pairs") pairsNote(answer.reason.message);
      else empty($(places[index]), answer.reason.message);
    });
    $("figures").hidden = false;
    $("status").textContent = `Figures of ${params.from} to ${params.to}, ${params.store || "whole fleet"}.`;
  } catch (error) {
    showError(error instanceof ApiError ? error.message : `The page failed: ${error.message}`);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date().toISOString().slice(0, 10);
  $("from").value = today;
  $("to").value = today;
  $("ask").addEventListener("submit", show);
});
