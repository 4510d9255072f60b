import type { PlaybookEventBuilder } from "../lib/s3queue/PlaybookForwarder.js";
import { S3QueuedTrigger } from "../lib/s3queue/S3QueuedTrigger.js";
import { IpLogNormalizer } from "../lib/umbrella/IpLogNormalizer.js";
import { isUmbrellaHeaderLine } from "../lib/umbrella/isHeaderLine.js";

/** Umbrella writes `<folder>/<date>/<date>-<hh>-<mm>-<xxxx>.csv.gz`; plain `.csv` is read too. */
const LOG_OBJECT_KEY = /\.csv(\.gz)?$/i;

/**
 * Cisco Umbrella IP logs (`iplogs/`): every line of every object, exactly as read, becomes one
 * event for the Cisco Umbrella IP intake, and, when asked, one ECS event for the playbook. Skips the optional header row and keys that are not
 * log objects, such as README_FROM_UMBRELLA.txt.
 */
export class UmbrellaIpLogsTrigger extends S3QueuedTrigger {
  protected readonly slug = "cisco_umbrella_ip_logs";

  protected isLogObjectKey(key: string): boolean {
    return LOG_OBJECT_KEY.test(key);
  }

  override isHeaderLine(line: Buffer): boolean {
    return isUmbrellaHeaderLine(line);
  }

  protected override playbookEventBuilder(): PlaybookEventBuilder {
    const normalizer = new IpLogNormalizer();

    return (line) => normalizer.normalize(line) as Record<string, unknown> | undefined;
  }
}
