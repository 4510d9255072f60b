import { once } from "node:events";
import { createGunzip } from "node:zlib";

import { BODY_PIECE_BYTES, type PassResult } from "./ObjectPathRun.js";

const LF = 0x0a;

/**
 * zlib output chunk sizes tried for the limit, in bytes: the fastest one on the run is the
 * limit, so that our path is compared with the best Node's zlib can do, not with a default.
 */
export const LIMIT_CHUNK_SIZES = [64 * 1024, 256 * 1024, 1024 * 1024];

/**
 * The machine's limit: streaming gunzip of the same gzip bytes, fed in the pieces a socket
 * would deliver, plus `Buffer.indexOf` over the text to find every line end. Nothing else:
 * no line is handed anywhere.
 */
export async function limitPass(gz: Buffer, chunkSize: number): Promise<PassResult> {
  const started = performance.now();
  const gunzip = createGunzip({ chunkSize });
  let lines = 0;
  let textBytes = 0;
  gunzip.on("data", (text: Buffer) => {
    textBytes += text.length;
    for (let end = text.indexOf(LF); end !== -1; end = text.indexOf(LF, end + 1)) {
      lines += 1;
    }
  });
  const ended = once(gunzip, "end");
  for (let start = 0; start < gz.length; start += BODY_PIECE_BYTES) {
    if (!gunzip.write(gz.subarray(start, start + BODY_PIECE_BYTES))) {
      await once(gunzip, "drain");
    }
  }
  gunzip.end();
  await ended;

  return { seconds: (performance.now() - started) / 1000, lines, textBytes };
}
