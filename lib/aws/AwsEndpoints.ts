/** Endpoint overrides for the AWS services we call, read from the standard variables. */
export interface AwsEndpoints {
  sqs: string | undefined;
  s3: string | undefined;
  sts: string | undefined;
}

/**
 * Reads `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, as the AWS SDKs and CLI do.
 * Unset means the real AWS endpoint of the region.
 */
export function readAwsEndpoints(env: NodeJS.ProcessEnv = process.env): AwsEndpoints {
  const shared = nonEmpty(env["AWS_ENDPOINT_URL"]);

  return {
    sqs: nonEmpty(env["AWS_ENDPOINT_URL_SQS"]) ?? shared,
    s3: nonEmpty(env["AWS_ENDPOINT_URL_S3"]) ?? shared,
    sts: nonEmpty(env["AWS_ENDPOINT_URL_STS"]) ?? shared,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();

  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
