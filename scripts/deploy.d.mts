// Types of scripts/deploy.mjs for the tests that import its parts (test/e2e/deploy.test.ts).
export declare const SECRET: "OWNER_PASSWORD";
export declare const MIN_PASSWORD_LENGTH: number;
export declare const HELP: string;
export interface DeployOutput {
  workerName: string | null;
  targets: string[];
}
export declare function parseDeployOutput(text: string): DeployOutput | null;
export declare function targetOrigin(target: string): { origin: string; rank: number } | null;
export declare function chooseMcpUrl(targets: string[], configured: string | undefined): { url: string | null; others: string[] };
export declare function configuredResource(tomlText: string, args?: string[]): string | undefined;
export declare function hasSecret(listOutput: string, name?: string): boolean;
export declare function generatePassword(): string;
type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; setEncoding?(encoding: BufferEncoding): unknown };
export declare function readHidden(prompt: string, input?: Input, output?: NodeJS.WritableStream): Promise<string>;
export declare function choosePassword(input: Input, output: NodeJS.WritableStream): Promise<{ password: string; generated: boolean } | null>;
export declare function main(options?: {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  input?: Input;
  output?: NodeJS.WritableStream;
  errors?: NodeJS.WritableStream;
}): Promise<number>;
