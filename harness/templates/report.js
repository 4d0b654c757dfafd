(function(){
var bar=document.getElementById('toolbar');if(!bar)return;bar.classList.remove('hidden');
var units=function(){return document.querySelectorAll('details.unit');};
bar.addEventListener('click',function(e){var a=e.target.getAttribute('data-act');if(!a)return;
units().forEach(function(d){if(!d.classList.contains('hidden'))d.open=(a==='expand');});});
var sel=document.getElementById('vfilter');
sel.addEventListener('change',function(){var v=sel.value;
units().forEach(function(d){d.classList.toggle('hidden',v!=='all'&&!d.classList.contains('v-'+v));});});
})();
