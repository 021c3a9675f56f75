// caver-js depends on a package named "http" that the registry only holds as a
// placeholder without code; what it means is Node's built-in module.
module.exports = require('node:http');
