import { setMaxListeners } from "node:events";

import { createAwsClients, type AwsClients } from "../aws/AwsClientFactory.js";
import { createCredentialProvider } from "../aws/createCredentialProvider.js";
import { loadAwsModuleConfiguration } from "../aws/loadAwsModuleConfiguration.js";
import { QueueError } from "../errors/QueueError.js";
import { describeError } from "../errors/ModuleError.js";
import { IntakeClient } from "../intake/IntakeClient.js";
import { IntakeForwarder } from "../intake/IntakeForwarder.js";
import { INTAKE_MAX_EVENT_BYTES } from "../intake/IntakeLimits.js";
import { ConfigurationError } from "../errors/ConfigurationError.js";
import { Backoff, sleep } from "../runtime/Backoff.js";
import { DEFAULT_MONITORING_HOST, HealthServer, monitoringPorts } from "../runtime/HealthServer.js";
import { MetricsServer } from "../runtime/MetricsServer.js";
import { loadTriggerDefinition, readPackageJson } from "../runtime/PackageFiles.js";
import { PlaybookClient } from "../runtime/PlaybookClient.js";
import type { ModuleCommand, RuntimeContext } from "../runtime/RuntimeContext.js";
import { maskIntakeKey } from "../runtime/SecretRedactor.js";
import type { EventSink } from "./EventSink.js";
import { FanOutSink } from "./FanOutSink.js";
import { PlaybookForwarder, type PlaybookEventBuilder } from "./PlaybookForwarder.js";
import { ObjectProcessor } from "./ObjectProcessor.js";
import type { ObjectPolicy, SkipReason } from "./ObjectPolicy.js";
import { ObjectReader } from "./ObjectReader.js";
import type { ObjectRef } from "./ObjectRef.js";
import { S3QueuedPipeline } from "./S3QueuedPipeline.js";
import { SqsQueue } from "./SqsQueue.js";
import {
  loadTriggerConfiguration,
  type S3QueuedTriggerConfiguration,
} from "./TriggerConfiguration.js";

const QUEUE_LOOKUP_INITIAL_DELAY_MS = 5_000;
/** Playbook events sent at once; each is one callback request. */
const PLAYBOOK_MAX_CONCURRENT_EVENTS = 16;
const QUEUE_LOOKUP_MAX_DELAY_MS = 5 * 60_000;

/**
 * Base of the triggers that read S3 objects announced on an SQS queue. A subclass names its
 * schema (`schemas/trigger_<slug>.json`) and says which keys are log objects and which lines
 * are headers; everything else (configuration, credentials, queue, reading, forwarding,
 * delivery guarantees, shutdown) lives here.
 */
export abstract class S3QueuedTrigger implements ModuleCommand, ObjectPolicy {
  /** The trigger's slug: its schema is `schemas/trigger_<slug>.json`. */
  protected abstract readonly slug: string;
  private keyPrefix = "";

  /** True for keys that hold logs of this trigger's type (the prefix is checked already). */
  protected abstract isLogObjectKey(key: string): boolean;

  /** Builds the playbook event of a line (`forward_to` playbook); the raw line by default. */
  protected playbookEventBuilder(): PlaybookEventBuilder {
    return (line) => ({ message: line });
  }

  isHeaderLine(_line: Buffer): boolean {
    return false;
  }

  skipReason(ref: ObjectRef): SkipReason | undefined {
    if (!ref.key.startsWith(this.keyPrefix)) {
      const inner = ref.key.indexOf(`/${this.keyPrefix}`);
      if (inner !== -1 && this.isLogObjectKey(ref.key)) {
        const prefix = ref.key.slice(0, inner + 1 + this.keyPrefix.length);

        return {
          reason: `outside the key prefix "${this.keyPrefix}"; if these logs are wanted, set key_prefix to "${prefix}"`,
          suspicious: true,
        };
      }

      return { reason: `outside the key prefix "${this.keyPrefix}"`, suspicious: false };
    }
    if (ref.key.endsWith("/")) {
      return { reason: "a folder placeholder", suspicious: false };
    }
    if (!this.isLogObjectKey(ref.key)) {
      return { reason: "not a log object", suspicious: false };
    }

    return undefined;
  }

  async run(context: RuntimeContext): Promise<number> {
    const ports = monitoringPorts(context.symphony);
    const health = new HealthServer(context.liveness);
    const exporter = new MetricsServer(context.metrics);
    const host = context.symphony.readString("monitoring_host") ?? DEFAULT_MONITORING_HOST;
    const livenessPort = await health.start(ports.liveness, host);
    const metricsPort = await exporter.start(ports.metrics, host);
    context.logger.info("monitoring", { host, livenessPort, metricsPort });
    try {
      return await this.collectUntilStopped(context);
    } finally {
      await Promise.all([health.stop(), exporter.stop()]);
    }
  }

  private async collectUntilStopped(context: RuntimeContext): Promise<number> {
    const definition = loadTriggerDefinition(this.slug);
    const configuration = loadTriggerConfiguration(
      context.symphony,
      context.validator,
      definition,
      (source, fields) =>
        context.logger.log(
          "warning",
          "unknown configuration fields ignored: check their spelling",
          {
            source,
            fields,
            known: Object.keys(definition.arguments.properties ?? {}),
          },
        ),
    );
    this.keyPrefix = configuration.key_prefix;
    if (configuration.intake_key !== undefined) {
      context.redactor.addIntakeKey(configuration.intake_key);
    }
    const moduleConfiguration = await loadAwsModuleConfiguration(context);
    const clients = createAwsClients({
      region: moduleConfiguration.aws_region_name,
      credentials: createCredentialProvider(moduleConfiguration, context),
    });
    context.logger.info("trigger starting", {
      trigger: definition.name,
      region: clients.region,
      queue: configuration.queue_url ?? configuration.queue_name,
      keyPrefix: configuration.key_prefix,
      forwardTo: configuration.forward_to,
      endpoint: clients.endpoints.sqs,
    });
    try {
      const queue = await this.locateQueue(clients, configuration, context);
      if (queue === undefined) {
        return 0;
      }
      await this.collect(queue, clients, configuration, context);

      return 0;
    } finally {
      clients.destroy();
    }
  }

  private async collect(
    queue: SqsQueue,
    clients: AwsClients,
    configuration: S3QueuedTriggerConfiguration,
    context: RuntimeContext,
  ): Promise<void> {
    const work = new AbortController();
    // Every object read and request in flight listens to it: no listener limit applies.
    setMaxListeners(0, work.signal);
    const maskedKey = maskIntakeKey(configuration.intake_key ?? "");
    const sink = this.createSinks(configuration, context, work.signal, maskedKey);
    const reader = new ObjectReader(clients.s3, {
      maxLineBytes: INTAKE_MAX_EVENT_BYTES,
      onResume: (ref, offset, error) => {
        context.metrics.retries.labels("s3_resume").inc();
        context.logger.log("warning", "object download interrupted, resuming", {
          bucket: ref.bucket,
          key: ref.key,
          offset,
          reason: describeError(error),
        });
      },
    });
    const objects = new ObjectProcessor({
      reader,
      sink,
      policy: this,
      logger: context.logger,
      metrics: context.metrics,
      maskedKey,
      maxConcurrentObjects: configuration.max_concurrent_objects,
      duplicateWindowSeconds: configuration.duplicate_window_seconds,
      work: work.signal,
    });
    const pipeline = new S3QueuedPipeline(
      {
        maxInFlightMessages: configuration.max_concurrent_objects,
        visibilityTimeoutSeconds: configuration.visibility_timeout_seconds,
        maxReceiveCount: configuration.max_receive_count,
        retryDelaySeconds: configuration.retry_delay_seconds,
        shutdownGraceSeconds: configuration.shutdown_grace_seconds,
        receiveWaitSeconds: configuration.receive_wait_seconds,
      },
      {
        queue,
        objects,
        logger: context.logger,
        metrics: context.metrics,
        liveness: context.liveness,
        maskedKey,
        work,
        closeSinks: () => sink.close(),
      },
    );
    await pipeline.run(context.shutdown);
  }

  private createSinks(
    configuration: S3QueuedTriggerConfiguration,
    context: RuntimeContext,
    signal: AbortSignal,
    maskedKey: string,
  ): EventSink {
    const sinks: EventSink[] = [];
    if (configuration.forward_to !== "playbook") {
      sinks.push(this.createIntakeSink(configuration, context, signal, maskedKey));
    }
    if (configuration.forward_to !== "intake") {
      sinks.push(this.createPlaybookSink(context, signal));
    }

    return sinks.length === 1 ? (sinks[0] as EventSink) : new FanOutSink(sinks);
  }

  private createPlaybookSink(context: RuntimeContext, signal: AbortSignal): EventSink {
    const client = PlaybookClient.fromSymphony(context);
    if (client === undefined) {
      throw new ConfigurationError(
        "trigger_configuration",
        ["forward_to"],
        'Invalid trigger_configuration: "forward_to" sends events to the playbook, but the ' +
          'platform gave no url_callback or token. Use forward_to "intake" outside a playbook.',
      );
    }

    return new PlaybookForwarder({
      client,
      eventName: loadTriggerDefinition(this.slug).name,
      build: this.playbookEventBuilder(),
      maxConcurrentEvents: PLAYBOOK_MAX_CONCURRENT_EVENTS,
      logger: context.logger,
      metrics: context.metrics,
      liveness: context.liveness,
      signal,
    });
  }

  private createIntakeSink(
    configuration: S3QueuedTriggerConfiguration,
    context: RuntimeContext,
    signal: AbortSignal,
    maskedKey: string,
  ): EventSink {
    const version = readPackageJson<{ version: string }>("package.json").version;
    const client = new IntakeClient({
      intakeServer: configuration.intake_server,
      maskedKey,
      userAgent: `sekoiaio-connector/cisco-umbrella-aws-s3-${version}`,
      http: context.http,
      logger: context.logger,
      metrics: context.metrics,
      liveness: context.liveness,
      failuresBeforeError: configuration.intake_failures_before_error,
      redactText: (text) => context.redactor.redactText(text),
      requestTimeoutMs: configuration.intake_timeout_seconds * 1000,
    });

    return new IntakeForwarder({
      client,
      intakeKey: configuration.intake_key ?? "",
      maskedKey,
      maxBatchBytes: configuration.intake_batch_max_bytes,
      maxConcurrentRequests: configuration.intake_max_concurrent_requests,
      logger: context.logger,
      metrics: context.metrics,
      liveness: context.liveness,
      signal,
    });
  }

  /** Finds the queue, retrying patiently while it is missing or not allowed. */
  private async locateQueue(
    clients: AwsClients,
    configuration: S3QueuedTriggerConfiguration,
    context: RuntimeContext,
  ): Promise<SqsQueue | undefined> {
    const backoff = new Backoff({
      initialDelayMs: QUEUE_LOOKUP_INITIAL_DELAY_MS,
      maxDelayMs: QUEUE_LOOKUP_MAX_DELAY_MS,
    });
    let reported = false;
    while (!context.shutdown.aborted) {
      try {
        return await SqsQueue.locate(clients.sqs, {
          ...(configuration.queue_url === undefined ? {} : { url: configuration.queue_url }),
          ...(configuration.queue_name === undefined ? {} : { name: configuration.queue_name }),
        });
      } catch (error: unknown) {
        const critical: boolean =
          error instanceof QueueError && error.configurationProblem && !reported;
        reported ||= critical;
        context.logger.log(critical ? "critical" : "error", describeError(error), {
          queue: configuration.queue_url ?? configuration.queue_name,
        });
        await sleep(backoff.next(), context.shutdown);
      }
    }

    return undefined;
  }
}
