// The local object store: s3rver on HOST:PORT keeping its objects in DIRECTORY.
//
//   node config/s3rver/server.js DIRECTORY HOST PORT
//
// s3rver verifies every signature it is shown (SigV4 headers and presigned URLs alike) but lets
// an unsigned request through as if the bucket were public. Here such a request is refused with
// S3's own 403 AccessDenied before s3rver sees it, so the bucket is as private as on MinIO or S3:
// only the project's signed calls and the presigned URLs it hands out get in. Credentials are
// s3rver's fixed development pair, S3RVER / S3RVER.
'use strict';

const http = require('http');
const S3rver = require('@20minutes/s3rver');

const [directory, address, port] = process.argv.slice(2);
if (!directory || !address || !port) {
  console.error('usage: node server.js DIRECTORY HOST PORT');
  process.exit(2);
}

const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

function isSigned(request) {
  if (request.headers.authorization) return true;
  const query = new URL(request.url, 'http://store').searchParams;
  return query.has('X-Amz-Signature') || query.has('Signature');
}

const store = new S3rver({ directory, silent: true });
const handle = store.callback();
const server = http.createServer((request, response) => {
  if (!isSigned(request)) {
    response.writeHead(403, { 'Content-Type': 'application/xml' });
    response.end(ACCESS_DENIED);
    return;
  }
  handle(request, response);
});
server.listen(Number(port), address, () => {
  console.log(`s3rver listening on http://${address}:${port}/ (objects in ${directory})`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
