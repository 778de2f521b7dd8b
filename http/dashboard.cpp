#include "http/dashboard.hpp"

namespace spool::http {

namespace {
constexpr std::string_view page = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spool</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{background:#1d232b;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0} #status{color:#9fb3c8}
#signin{padding:12px 20px;background:#fff4e5;border-bottom:1px solid #f0d9b5}
main{padding:16px 20px;display:grid;grid-template-columns:1fr 1fr;gap:16px}
section{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:12px}
section.wide{grid-column:1/3} h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%} td,th{padding:4px 6px;border-bottom:1px solid #eef1f4;text-align:left;font-variant-numeric:tabular-nums}
button{font:inherit;padding:2px 8px;cursor:pointer} .err{color:#b42318} .muted{color:#6b7785}
a{color:#1f5fbf;cursor:pointer} pre{white-space:pre-wrap;background:#f3f5f8;padding:8px;margin:4px 0}
canvas{width:100%;height:140px}
</style></head><body>
<header><h1>Spool</h1><span id="status">connecting…</span></header>
<form id="signin" hidden><label>Admin token <input id="token" type="password" autocomplete="current-password"></label>
<button id="signin-button">sign in</button> <span id="signin-error" class="err"></span></form>
<main>
<section class="wide"><h2>Queues</h2><table id="queues"><thead></thead><tbody></tbody></table></section>
<section><h2>Throughput (finished / failed per second, last minutes)</h2><canvas id="chart" width="600" height="140"></canvas>
<div id="rates" class="muted"></div></section>
<section><h2>Running jobs</h2><table id="running"><tbody></tbody></table></section>
<section><h2>Recent failures (retrying)</h2><table id="failures"><tbody></tbody></table></section>
<section><h2>Dead-letter queue <button id="requeue-all">requeue all</button></h2><table id="dlq"><tbody></tbody></table></section>
<section class="wide"><h2>Periodic jobs</h2><table id="periodic"><thead></thead><tbody></tbody></table></section>
<section class="wide"><h2>Job <input id="job-id" size="8" placeholder="id"> <button id="show-job">show</button></h2><div id="job"></div></section>
</main>
<script>
const STATES=["scheduled","available","running","retrying","completed","cancelled","dead"];
const points=[];
// With an admin token set, the API answers 401 until the operator signs in: the token is posted
// once and the endpoint answers with an HttpOnly session cookie, which the browser then sends.
async function api(method,path,body){
  const h={}; if(method!=="GET") h["Content-Type"]="application/json";
  const r=await fetch(path,{method,headers:h,credentials:"same-origin",body:method==="GET"?undefined:JSON.stringify(body===undefined?{}:body)});
  if(r.status===401){document.getElementById("signin").hidden=false;throw new Error("sign in with the admin token");}
  const data=await r.json(); if(!r.ok) throw new Error(data.error?data.error.message:r.status); return data;
}
function el(tag,text,attrs){const e=document.createElement(tag);if(text!==undefined)e.textContent=text;Object.assign(e,attrs||{});return e;}
function button(label,fn,id){const b=el("button",label);if(id)b.id=id;b.onclick=async()=>{try{await fn();}catch(e){alert(e.message);}refresh();};return b;}
function row(cells){const tr=el("tr");for(const c of cells){const td=el("td");if(c instanceof Node)td.append(c);else td.textContent=c;tr.append(td);}return tr;}
function jobLink(id){const a=el("a",String(id));a.onclick=()=>showJob(id);return a;}
async function showJob(id){
  document.getElementById("job-id").value=id;
  const box=document.getElementById("job"); box.textContent="";
  try{const j=await api("GET","/api/v1/jobs/"+id);
    box.append(el("div",`#${j.id} ${j.kind} on ${j.queue}: ${j.state}, attempt ${j.attempt}`,{id:"job-summary"}));
    box.append(el("pre",JSON.stringify(j.payload)));
    const t=el("table",undefined,{id:"job-errors"});for(const e of j.errors)t.append(row([`attempt ${e.attempt}`,e.at,e.message]));box.append(t);
    if(j.note)box.append(el("div",j.note,{className:"muted"}));
  }catch(e){box.append(el("div",e.message,{className:"err"}));}
}
function drawChart(){
  const c=document.getElementById("chart"),g=c.getContext("2d");g.clearRect(0,0,c.width,c.height);
  const max=Math.max(1,...points.map(p=>p.done));
  const line=(key,color)=>{g.strokeStyle=color;g.beginPath();points.forEach((p,i)=>{const x=i*c.width/Math.max(1,points.length-1),y=c.height-4-(c.height-8)*p[key]/max;i?g.lineTo(x,y):g.moveTo(x,y);});g.stroke();};
  line("done","#1f7a3f");line("fail","#b42318");
  g.fillStyle="#6b7785";g.fillText(max.toFixed(1)+"/s",4,12);
}
async function refresh(){
  try{
    const [q,stats,running,failing,dlq,periodic]=await Promise.all([api("GET","/api/v1/queues"),api("GET","/api/v1/stats"),
      api("GET","/api/v1/jobs?state=running&limit=20"),api("GET","/api/v1/jobs?state=retrying&limit=20"),api("GET","/api/v1/dlq?limit=20"),
      api("GET","/api/v1/periodic")]);
    const qt=document.getElementById("queues");qt.tHead.replaceChildren(row(["queue",...STATES,"oldest due (s)","concurrency",""]));
    qt.tBodies[0].replaceChildren(...q.queues.map(x=>{const r=row([x.name,...STATES.map(s=>x.counts[s]??0),
      x.oldest_available_age_s==null?"-":x.oldest_available_age_s.toFixed(1),x.concurrency??"-",
      x.served_here?button(x.paused?"resume":"pause",()=>api("POST",`/api/v1/queues/${encodeURIComponent(x.name)}/${x.paused?"resume":"pause"}`),`${x.paused?"resume":"pause"}-${x.name}`):""]);r.dataset.queue=x.name;return r;}));
    const w=stats.windows["1m"];points.push({done:w.throughput_per_s,fail:w.failed/60});if(points.length>120)points.shift();drawChart();
    document.getElementById("rates").textContent=["1m","5m","15m"].map(k=>`${k}: ${stats.windows[k].finished} finished, ${(100*stats.windows[k].failure_rate).toFixed(1)}% failed`).join(" · ");
    document.getElementById("running").tBodies[0].replaceChildren(...running.jobs.map(j=>row([jobLink(j.id),j.kind,j.queue,`attempt ${j.attempt}`,button("cancel",()=>api("POST",`/api/v1/jobs/${j.id}/cancel`),"cancel-"+j.id)])));
    document.getElementById("failures").tBodies[0].replaceChildren(...failing.jobs.map(j=>row([jobLink(j.id),j.kind,`attempt ${j.attempt}`,j.run_at||"",button("retry now",()=>api("POST",`/api/v1/jobs/${j.id}/retry`))])));
    document.getElementById("dlq").tBodies[0].replaceChildren(...dlq.jobs.map(j=>{const r=row([jobLink(j.id),j.kind,j.note||"",
      button("requeue",()=>api("POST",`/api/v1/dlq/${j.id}/requeue`),"requeue-"+j.id),button("purge",()=>api("DELETE",`/api/v1/dlq/${j.id}`),"purge-"+j.id)]);r.dataset.job=j.id;return r;}));
    const pt=document.getElementById("periodic");pt.tHead.replaceChildren(row(["name","cron","time zone","kind","queue","next run","last run","last job"]));
    pt.tBodies[0].replaceChildren(...periodic.map(p=>row([p.name,p.cron,p.timezone,p.kind,p.queue,p.next_run||"-",p.last_run||"-",p.last_job_id==null?"-":jobLink(p.last_job_id)])));
    document.getElementById("status").textContent="updated "+new Date().toLocaleTimeString();
  }catch(e){document.getElementById("status").textContent="error: "+e.message;}
}
document.getElementById("requeue-all").onclick=async()=>{try{await api("POST","/api/v1/dlq/requeue");}catch(e){alert(e.message);}refresh();};
document.getElementById("signin").onsubmit=async(ev)=>{ev.preventDefault();
  const r=await fetch("/api/v1/session",{method:"POST",headers:{"Content-Type":"application/json"},credentials:"same-origin",
    body:JSON.stringify({token:document.getElementById("token").value})});
  if(r.ok){document.getElementById("signin").hidden=true;document.getElementById("token").value="";document.getElementById("signin-error").textContent="";refresh();}
  else{const d=await r.json().catch(()=>({}));document.getElementById("signin-error").textContent=d.error?d.error.message:String(r.status);}
};
document.getElementById("show-job").onclick=()=>showJob(document.getElementById("job-id").value);
refresh();setInterval(refresh,2000);
</script></body></html>
)html";
}  // namespace

std::string_view dashboard_html() { return page; }

}  // namespace spool::http
