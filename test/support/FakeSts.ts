import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** One request the fake STS received, form parameters decoded. */
export interface StsRequest {
  action: string;
  params: Record<string, string>;
  /** The access key ID that signed the request, when it was signed. */
  signedBy: string | undefined;
}

/** Credentials the fake STS handed out. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
}

/** An STS error answer, in the real XML error shape. */
export interface StsFault {
  code: string;
  message: string;
  status: number;
}

/**
 * A node:http STS on 127.0.0.1 answering AssumeRoleWithWebIdentity and GetCallerIdentity in
 * the Query protocol with the real XML shapes. It records every request; `behave` lets a test
 * answer a request with an error instead.
 */
export class FakeSts {
  readonly requests: StsRequest[] = [];
  readonly issued: IssuedCredentials[] = [];
  /** Lifetime of the credentials handed out, in milliseconds. */
  lifetimeMs = 3_600_000;
  behave: (request: StsRequest) => StsFault | undefined = () => undefined;
  private readonly waiters: { done: () => boolean; resolve: () => void }[] = [];
  private readonly server = createServer((req, res) => this.handle(req, res));

  get url(): string {
    const { port } = this.server.address() as AddressInfo;

    return `http://127.0.0.1:${port}`;
  }

  /** Requests of one action, in arrival order. */
  requestsOf(action: string): StsRequest[] {
    return this.requests.filter((request) => request.action === action);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));

    return this;
  }

  /** Resolves once `count` requests of `action` arrived. */
  waitFor(action: string, count: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): boolean => this.requestsOf(action).length >= count;
      if (done()) {
        resolve();
      } else {
        this.waiters.push({ done, resolve });
      }
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(parts).toString()));
      const signer = /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1];
      const request: StsRequest = { action: params["Action"] ?? "", params, signedBy: signer };
      this.requests.push(request);
      const fault = this.behave(request);
      if (fault !== undefined) {
        reply(res, fault.status, errorXml(fault));
      } else if (request.action === "AssumeRoleWithWebIdentity") {
        reply(res, 200, this.assumeRole(params));
      } else if (request.action === "GetCallerIdentity") {
        reply(res, 200, this.callerIdentity(signer));
      } else {
        reply(res, 400, errorXml({ code: "InvalidAction", message: "unknown", status: 400 }));
      }
      this.notify();
    });
  }

  private assumeRole(params: Record<string, string>): string {
    const roleArn = params["RoleArn"] ?? "";
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIAFAKESTS${String(this.issued.length + 1).padStart(9, "0")}`,
      secretAccessKey: randomBytes(20).toString("hex"),
      sessionToken: randomBytes(48).toString("base64"),
      expiration: new Date(Date.now() + this.lifetimeMs),
      roleArn,
    };
    this.issued.push(credentials);
    const role = roleArn.split("/").pop() ?? "role";

    return [
      `<AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}">`,
      "  <AssumeRoleWithWebIdentityResult>",
      "    <SubjectFromWebIdentityToken>community:c:modconf:m</SubjectFromWebIdentityToken>",
      "    <Audience>sts.amazonaws.com</Audience>",
      "    <AssumedRoleUser>",
      `      <Arn>${assumedRoleArn(roleArn, params["RoleSessionName"] ?? "")}</Arn>`,
      `      <AssumedRoleId>AROAFAKESTS000000000:${role}</AssumedRoleId>`,
      "    </AssumedRoleUser>",
      "    <Credentials>",
      `      <SessionToken>${credentials.sessionToken}</SessionToken>`,
      `      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>`,
      `      <Expiration>${credentials.expiration.toISOString()}</Expiration>`,
      `      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>`,
      "    </Credentials>",
      "    <Provider>oidc.fake.example</Provider>",
      "  </AssumeRoleWithWebIdentityResult>",
      "  <ResponseMetadata>",
      "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>",
      "  </ResponseMetadata>",
      "</AssumeRoleWithWebIdentityResponse>",
    ].join("\n");
  }

  private callerIdentity(signer: string | undefined): string {
    const issued = this.issued.find((credentials) => credentials.accessKeyId === signer);
    const arn =
      issued === undefined
        ? "arn:aws:iam::123456789012:user/umbrella-reader"
        : assumedRoleArn(issued.roleArn, "sekoia-automation-session");
    const account = /::(\d{12}):/.exec(arn)?.[1] ?? "123456789012";

    return [
      `<GetCallerIdentityResponse xmlns="${STS_XMLNS}">`,
      "  <GetCallerIdentityResult>",
      `    <Arn>${arn}</Arn>`,
      "    <UserId>AIDAFAKESTS000000000</UserId>",
      `    <Account>${account}</Account>`,
      "  </GetCallerIdentityResult>",
      "  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>",
      "</GetCallerIdentityResponse>",
    ].join("\n");
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.done()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}

function assumedRoleArn(roleArn: string, session: string): string {
  const account = /::(\d{12}):/.exec(roleArn)?.[1] ?? "000000000000";
  const role = roleArn.split("/").pop() ?? "role";

  return `arn:aws:sts::${account}:assumed-role/${role}/${session}`;
}

function errorXml(fault: StsFault): string {
  return [
    `<ErrorResponse xmlns="${STS_XMLNS}">`,
    "  <Error>",
    `    <Type>${fault.status >= 500 ? "Receiver" : "Sender"}</Type>`,
    `    <Code>${fault.code}</Code>`,
    `    <Message>${fault.message}</Message>`,
    "  </Error>",
    "  <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>",
    "</ErrorResponse>",
  ].join("\n");
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/xml" }).end(body);
}
