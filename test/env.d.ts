// The Worker's Env is declared once in src/env.d.ts (Cloudflare.Env); tests only add what the
// test plugin needs to know about the main module.
declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "Runtime" | "LoginThrottle";
    }
  }
}

export {};
