/** /assets/dagre.js: the dagre layout library as an ES module (src/dashboard/assets.ts builds it). */
import * as dagre from "@dagrejs/dagre";
export default dagre;
