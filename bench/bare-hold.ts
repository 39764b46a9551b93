/**
 * The floor for long-polls: a bare node:http server that holds every request it gets without
 * answering (what a waiting long-poll is, minus the gateway). `GET /memory` answers its own
 * memory after a full collection. Started by bench/longpoll.ts with --expose-gc.
 */
import http from 'node:http';

const held: http.ServerResponse[] = [];
const server = http.createServer((req, res) => {
  if (req.url === '/memory') {
    (globalThis as { gc?: () => void }).gc?.();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ...process.memoryUsage(), held: held.length }));
    return;
  }
  held.push(res);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`bare hold server listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
});
