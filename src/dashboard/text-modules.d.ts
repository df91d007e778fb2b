/** Browser files the Worker serves as strings: wrangler's Text rule imports them (wrangler.toml). */
declare module "../dashboard/assets/*" {
  const source: string;
  export default source;
}
declare module "*/dagre.min.js" {
  const source: string;
  export default source;
}
declare module "*.LEGAL.txt" {
  const source: string;
  export default source;
}
