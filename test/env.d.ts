import type { Env as AppEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {}
    // Types `exports` from cloudflare:workers (the Worker's own entry, called by the tests).
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
