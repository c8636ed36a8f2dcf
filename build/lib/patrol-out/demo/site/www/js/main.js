/* 清溪区人民政府网站公共脚本 */
function addFavorite(){return false;}
