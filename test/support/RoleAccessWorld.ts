import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { FakeTokenEndpoint } from "../aws/FakeTokenEndpoint.js";
import { HttpTransport } from "../../lib/http/HttpTransport.js";
import { AwsFaultProxy } from "./AwsFaultProxy.js";
import { startEmulator, type Emulator } from "./Emulator.js";
import { FakeSts } from "./FakeSts.js";

/**
 * Everything the role-access tests need, on loopback: fauxqs behind a fault proxy, a fake STS,
 * a fake platform token endpoint, and a /symphony-like directory naming that endpoint
 * (url_logs), the platform token and the trigger's uuid.
 */
export class RoleAccessWorld {
  private constructor(
    readonly emulator: Emulator,
    readonly proxy: AwsFaultProxy,
    readonly sts: FakeSts,
    readonly tokens: FakeTokenEndpoint,
    readonly http: HttpTransport,
    readonly directory: string,
  ) {}

  static async start(directoryPrefix: string): Promise<RoleAccessWorld> {
    const emulator = await startEmulator();
    const proxy = await new AwsFaultProxy(emulator.address).start();
    const sts = await new FakeSts().start();
    const tokens = await new FakeTokenEndpoint().start();
    const directory = mkdtempSync(join(tmpdir(), directoryPrefix));
    writeFileSync(join(directory, "url_logs"), `${tokens.url}/api/v1/logs`);
    writeFileSync(join(directory, "token"), "platform-bearer-token-0123456789");
    writeFileSync(join(directory, "trigger_configuration_uuid"), "trigger-uuid-1");

    return new RoleAccessWorld(emulator, proxy, sts, tokens, new HttpTransport(), directory);
  }

  async stop(): Promise<void> {
    this.http.close();
    rmSync(this.directory, { recursive: true, force: true });
    await this.tokens.stop();
    await this.sts.stop();
    await this.proxy.stop();
    await this.emulator.stop();
  }
}
