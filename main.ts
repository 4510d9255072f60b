#!/usr/bin/env node
import { ValidateModuleConfigurationCommand } from "./lib/aws/ValidateModuleConfigurationCommand.js";
import { DoctorCommand } from "./lib/doctor/DoctorCommand.js";
import { createPlatformTransports } from "./lib/runtime/createPlatformTransports.js";
import { ModuleRunner } from "./lib/runtime/ModuleRunner.js";
import { SetupCommand } from "./lib/setup/SetupCommand.js";
import { NormalizeCommand } from "./lib/umbrella/NormalizeCommand.js";
import { UmbrellaIpLogsTrigger } from "./triggers/UmbrellaIpLogsTrigger.js";

/** Exit anyway this long after the command ended, should a handle keep the process alive. */
const EXIT_DEADLINE_MS = 5_000;

const runner = new ModuleRunner({ transports: createPlatformTransports })
  .register("cisco_umbrella_ip_logs", {
    description: "trigger: Cisco Umbrella IP logs from S3 (SQS notifications) to Sekoia.io",
    create: () => new UmbrellaIpLogsTrigger(),
  })
  .register("validate_module_configuration", {
    description: "account validator: check the module configuration against AWS",
    create: () => new ValidateModuleConfigurationCommand(),
  })
  .register("setup", {
    description: "tool: print the IAM, SQS and S3 settings for your names (flags: docs/SETUP.md)",
    create: () => new SetupCommand(),
  })
  .register("doctor", {
    description: "tool: check the whole AWS chain of a configuration, step by step",
    create: () => new DoctorCommand(),
  })
  .register("normalize", {
    description: "tool: print Umbrella IP log lines (files or stdin, gzip or plain) as ECS JSON",
    create: () => new NormalizeCommand(),
  });

const code = await runner.run(process.argv.slice(2));
process.exitCode = code;
setTimeout(() => process.exit(code), EXIT_DEADLINE_MS).unref();
