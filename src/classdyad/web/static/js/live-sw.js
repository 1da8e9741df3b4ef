// The live page's service worker: the page and its assets come from the cache when the network
// is gone, so a whole lesson can be coded offline. Pages are fetched from the network first
// (a fresh page when there is one); assets from the cache first. API requests never touch the
// cache: changes wait in IndexedDB and the page's send queue delivers them.

const CACHE = "classdyad-live-__VERSION__"; // changes with any cached asset
const ASSETS = __ASSETS__;
const PAGES = /^\/(lessons\/\d+\/live|classrooms\/[^/]+\/seating)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("classdyad-live-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    return new Response("This page was never opened on this device while online; connect once "
      + "and open it, then it works offline.", { status: 503, headers: { "Content-Type": "text/plain" } });
  }
}

async function asset(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (PAGES.test(url.pathname)) {
    event.respondWith(page(request)); // navigations, and the page's own fetch that caches it
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/live.webmanifest") {
    event.respondWith(asset(request));
  }
});
